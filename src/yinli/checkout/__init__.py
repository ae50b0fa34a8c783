"""Cart, the one final price, shipping per store, and checkout → one order per store."""
