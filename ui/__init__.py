"""The Gradio chat UI; it calls rag and nothing else."""
