"""Privacy: the audit log of staff actions, anonymising closed cases, and customer data export."""
