"""The ASGI pipeline every request goes through; `pipeline.py` lists its layers in order."""
