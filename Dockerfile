FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir -r requirements.lock
COPY stateset_gateway ./stateset_gateway
COPY config ./config
RUN pip install --no-cache-dir --no-deps .
EXPOSE 8080
CMD ["stateset-cli", "serve"]
