"""The Qt side of mlscope: turns core frames into models and views. Never opens a store itself."""
