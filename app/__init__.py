"""The HTTP application assembled once: settings, shared request dependencies, the payload
codec, and the composition root that mounts the JSON API and the web pages."""
