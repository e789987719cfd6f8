"""Organisation tree: headquarters, prefecture headquarters, local unions, councils."""
