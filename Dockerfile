# One image for the API and the worker (docker-compose runs each as its own service).
FROM python:3.11-slim
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
COPY denials denials
RUN pip install --no-cache-dir . && mkdir /data && chown nobody /data
USER nobody
CMD ["denials", "api"]
