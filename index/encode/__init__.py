"""Text to vectors: the embedding model, the resumable embedding work, the int8 ONNX query encoder."""
