"""Stock per SKU and reservations: decrements that cannot go below zero, however many buyers race."""
