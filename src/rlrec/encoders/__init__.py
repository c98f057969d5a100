"""Encoders: item towers g(item) (id embeddings, language models) and user-state encoders f(state)."""
