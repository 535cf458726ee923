"""Workjet's tests. A package so that ``tests.services`` and friends import by full name
and test modules in different folders may share a basename (give each folder an
``__init__.py``)."""
