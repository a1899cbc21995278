"""Listening-health insights: daily aggregate counts and the chart drawn from them."""

from bot.insights.daily import DailyCounts

__all__ = ["DailyCounts"]
