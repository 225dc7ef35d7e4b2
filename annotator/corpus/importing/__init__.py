"""Reading and validating corpus files, with no database access: readers yield raw rows, parsers check them.

The write path (outlets, de-duplication, inserts, progress) lives in ``annotator.corpus.services``.
"""
