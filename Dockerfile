# The qualkg API. Build: docker build -t qualkg . ; the compose file wires it to Neo4j and Fuseki.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ontology ontology
COPY store store
COPY ingest ingest
COPY queries queries
COPY api api
COPY qualkg qualkg
COPY synthesis synthesis
COPY projection projection
COPY data data
RUN pip install --no-cache-dir . && useradd --system --home /app qualkg && mkdir -p /var/lib/qualkg && chown qualkg /var/lib/qualkg
USER qualkg
ENV QUALKG_STORE_PATH=/var/lib/qualkg/store QUALKG_HOST=0.0.0.0 QUALKG_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --retries=5 CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["sh", "-c", "qualkg load-bundled --data data && qualkg serve"]
