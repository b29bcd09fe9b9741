"""Scrapy project: spiders, extraction, dates."""
