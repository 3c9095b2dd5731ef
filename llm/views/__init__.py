"""HTTP views of the llm app (one module per resource)."""
