"""The JSON API under /api/v1 for the brand's other systems: integrations, their API keys and
scopes, idempotent POSTs, the OpenAPI document and its interactive docs."""
