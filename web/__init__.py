"""Server-rendered web pages (Jinja2) over the same service layer as the API."""
