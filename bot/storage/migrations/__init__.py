"""Numbered SQL migrations (``NNNN_name.sql``), applied in order by :class:`bot.storage.Database`.

Reserved numbers: 0001 foundation, 0002 member features, 0003 moderation, 0004 trust, 0005 insights.
"""
