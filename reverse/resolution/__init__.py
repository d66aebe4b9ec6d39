"""Settling a case with the customer: refunds, store credit, exchanges, rejections."""
