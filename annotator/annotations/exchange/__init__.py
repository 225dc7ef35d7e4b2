"""Annotation exchange: export and import a project's spans as native JSONL, doccano, Label Studio, CoNLL BIO
and CSV, plus the BABE importer. See docs/exchange.md."""
