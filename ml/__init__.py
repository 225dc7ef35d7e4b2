"""Framescope's maths: tokenising, the lexicon model, agreement metrics and score statistics.

Pure Python + numpy/scipy/scikit-learn. Nothing here imports Django.
"""
