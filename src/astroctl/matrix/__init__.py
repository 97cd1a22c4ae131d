"""The release database: the compatibility matrix, its schema, queries and changes."""
