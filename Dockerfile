FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY migrations ./migrations
COPY docgraph ./docgraph
RUN pip install --no-cache-dir .
ENV DOCGRAPH_DATA_DIR=/data
EXPOSE 8000
CMD ["docgraph", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-worker"]
