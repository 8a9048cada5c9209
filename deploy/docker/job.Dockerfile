# The job image for the Flink Kubernetes Operator (deploy/k8s/flink-job.yaml): the official
# Flink image with the project and PyFlink in a Python 3.11 venv, and the two jars a
# thread-mode Python job needs in lib/. Build from the repository root:
#   docker build -f deploy/docker/job.Dockerfile -t reco-job:0.1.0 .
FROM flink:2.2.1-java17

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.11 python3.11-venv \
 && rm -rf /var/lib/apt/lists/*

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
RUN python3.11 -m venv .venv && .venv/bin/pip install --no-cache-dir -c requirements.lock .

# thread mode: flink-python from opt/ into lib/ (else pemja fails), and the Kafka connector
RUN cp /opt/flink/opt/flink-python-2.2.1.jar /opt/flink/lib/
ADD --chown=flink:flink https://repo1.maven.org/maven2/org/apache/flink/flink-sql-connector-kafka/5.0.0-2.2/flink-sql-connector-kafka-5.0.0-2.2.jar /opt/flink/lib/
# the TaskManagers' embedded Python imports the venv and the project
ENV PYTHONPATH=/opt/reco:/opt/reco/.venv/lib/python3.11/site-packages
RUN chown -R flink:flink /opt/reco
