"""Retrieval: the encoder (sentence-transformers), the vector index (faiss) and the retriever over both."""
