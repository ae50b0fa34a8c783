"""Category tree, brands, products and SKUs, append-only price history, product cards."""
