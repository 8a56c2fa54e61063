"""The model registry's engine: which uploaded model files the studio accepts and what they say about
themselves. Pure Python; nothing here unpickles anything."""
