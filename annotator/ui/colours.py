"""Label colours as lines on the white page: WCAG 2.1 asks 3:1 for a non-text mark (1.4.11), and a codebook colour
such as #e9a100 (2.2:1) or the default #f4c542 (1.6:1) is lighter. The span's tint keeps the label's own colour; its
underline and outline use the line colour below."""

from __future__ import annotations

NON_TEXT_CONTRAST = 3.0


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of #rrggbb."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_on_white(hex_colour: str) -> float:
    """The WCAG contrast ratio of the colour against white (1 to 21)."""
    return 1.05 / (_luminance(hex_colour) + 0.05)


def line_colour(hex_colour: str, *, minimum: float = NON_TEXT_CONTRAST) -> str:
    """The label's colour, darkened (mixed with black in 5 % steps) until it stands out 3:1 against white."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(21):
        keep = 1 - step / 20
        candidate = "#{:02x}{:02x}{:02x}".format(*(round(c * keep) for c in (r, g, b)))
        if contrast_on_white(candidate) >= minimum:
            return candidate
    return "#000000"


def label_for_page(label) -> dict:
    """What the annotator and curator pages' scripts know of a label: id, name, colour, line colour, hotkey."""
    return {
        "id": label.pk,
        "name": label.full_name,
        "colour": label.colour,
        "line": line_colour(label.colour),
        "hotkey": label.hotkey,
    }
