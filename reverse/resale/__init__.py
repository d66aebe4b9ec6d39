"""Pre-owned stock: graded units offered again."""
