"""docs/security.md's "who sees what" table is the visibility module's own (annotator/projects/visibility.py)."""

import re
from pathlib import Path

from annotator.projects.visibility import who_sees_what_markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "security.md"
TABLE = re.compile(r"<!-- who-sees-what:start -->\n(.*?)\n<!-- who-sees-what:end -->", re.S)


def test_the_documented_table_is_the_policys():
    match = TABLE.search(DOC.read_text(encoding="utf-8"))
    assert match, f"{DOC} needs the table between <!-- who-sees-what:start --> and <!-- who-sees-what:end -->"
    assert match.group(1).strip() == who_sees_what_markdown(), (
        "docs/security.md's table differs from the policy; paste the output of "
        "annotator.projects.visibility.who_sees_what_markdown()"
    )


def test_the_readme_lists_the_page():
    readme = (DOC.parent.parent / "README.md").read_text(encoding="utf-8")
    assert "(docs/security.md)" in readme
