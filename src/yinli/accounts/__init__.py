"""Shoppers, merchants' staff, creators and operators; sign-in tokens and sessions."""
