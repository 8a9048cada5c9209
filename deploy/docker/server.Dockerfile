# The gRPC server image (deploy/k8s/serving.yaml). Build from the repository root:
#   docker build -f deploy/docker/server.Dockerfile -t reco-server:0.1.0 .
FROM python:3.11-slim

WORKDIR /opt/reco
COPY pyproject.toml requirements.lock README.md ./
COPY app app
COPY evaluation evaluation
COPY features features
COPY infra infra
COPY jobs jobs
COPY online_models online_models
COPY operators operators
COPY reco reco
COPY serving serving
COPY userstep userstep
RUN pip install --no-cache-dir -c requirements.lock . && useradd --uid 10001 reco \
 && mkdir -p /var/lib/reco && chown reco /var/lib/reco
USER reco
EXPOSE 50051
# SIGTERM drains in-flight requests (grpc_grace_s) before the pod goes
CMD ["python", "-m", "serving.server"]
