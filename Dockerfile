# One image for the API and the worker (docker-compose runs each as its own service).
# Exact patch release on Debian 12: rebuilding later gives the same Python, not a newer one.
FROM python:3.11.13-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY domain domain
COPY edi edi
COPY workflows workflows
COPY activities activities
COPY db db
COPY services services
COPY api api
COPY web web
COPY app app
COPY denials denials
RUN pip install --no-cache-dir . && mkdir /data && chown nobody /data
USER nobody
CMD ["denials", "api"]
