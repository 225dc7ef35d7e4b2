"""API views, one module per domain; one APIView per operation."""
