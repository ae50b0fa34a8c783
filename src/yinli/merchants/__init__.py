"""Stores: application, review, lifecycle, staff, profile, the new-merchant window, platform policy."""
