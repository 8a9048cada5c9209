# Entry points of the project. `make run` and `make test` work on a fresh machine with
# Python 3.11, Java 17 and Maven: they create the venv and fetch the jars first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TAOBAO := ../shared/datasets/taobao-userbehavior-head/UserBehavior_head.csv
JARS := .cache/jars/kafka/.complete .cache/jars/flink/flink-sql-connector-kafka-5.0.0-2.2.jar
SCHEMAS := .cache/k8s-schemas/.complete

.PHONY: help run up down status cluster-up cluster-down schemas test lint unit flink integration bench loadgen train-factors eval proto lock clean venv jars

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (set PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==24.3.1
	$(PY) -m pip install -q -c requirements.lock -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)  ## create the virtual environment with the locked dependencies

$(JARS):
	deploy/fetch_jars.sh

$(SCHEMAS): deploy/k8s/fetch_schemas.sh deploy/k8s/schemas/pom.xml
	rm -f $(SCHEMAS)
	deploy/k8s/fetch_schemas.sh

schemas: $(SCHEMAS)  ## fetch the published CRDs the Kubernetes manifests are validated against

jars: $(JARS)  ## fetch the Kafka connector and the Kafka broker from Maven Central

run: venv jars  ## everything: local Kafka, the job, the gRPC server, a simulated shop; then stop
	$(VENV)/bin/reco demo

up: venv jars  ## start Kafka, the job and the gRPC server in the background
	$(VENV)/bin/reco stack up

down:  ## stop what `make up` started
	@if [ -x $(VENV)/bin/reco ]; then $(VENV)/bin/reco stack down; else echo "nothing to stop"; fi

status:  ## say what runs where
	@if [ -x $(VENV)/bin/reco ]; then $(VENV)/bin/reco stack status; else echo "not set up"; fi

lint: venv  ## ruff, mypy and the import layers (import-linter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

test: venv jars schemas lint  ## the whole suite: lint, unit, Flink MiniCluster, real Kafka + gRPC
	$(VENV)/bin/pytest

cluster-up: venv jars  ## a standalone Flink cluster (JobManager + 2 TaskManagers) running the job, Kafka, server
	.venv/bin/reco cluster up

cluster-down:  ## stop the standalone cluster, the server and Kafka
	.venv/bin/reco cluster down

unit: venv  ## unit tests and doctests only (no JVM)
	$(VENV)/bin/pytest -m unit

loadgen:  ## build the lookup benchmark's load generator (Go) into .cache/bin
	deploy/build_loadgen.sh

bench: venv jars  ## benchmarks: numbers, JSON and plots under bench/results
	-deploy/build_loadgen.sh  # without Go the lookups fall back to the Python load generator
	$(PY) -m bench.end_to_end
	if [ -f $(TAOBAO) ]; then $(PY) -m bench.end_to_end --format taobao --events 30000 \
	  --no-scaling --rates 100 --probes 3 --lookup-rates= $(TAOBAO); fi  # P1 on real data
	$(PY) -m bench.cost_curve $(if $(wildcard $(TAOBAO)),--taobao $(TAOBAO))  # P1: cost against the data's size
	$(PY) -m bench.scaling
	$(PY) -m bench.freshness
	$(PY) -m bench.availability
	$(PY) -m bench.erasure
	$(PY) -m bench.placements
	$(PY) -m bench.server_parts  # P3: where the server's CPU per request goes, at one rate
	if [ -f $(TAOBAO) ]; then $(PY) -m bench.checkpoints --format taobao $(TAOBAO); \
	else $(PY) -m bench.checkpoints; fi  # the simulation when the data set is not there
	$(PY) -m bench.state
	$(PY) -m bench.features --state-users 100000
	$(PY) -m bench.goals  # issue 30's four goals from the results above: one table, one JSON

train-factors: venv  ## retrain the item factors from the event log (needs `make up`)
	.venv/bin/reco train-factors

DATA ?= ../shared/datasets
eval: venv  ## evaluation reports on the public data sets in $(DATA): reports/
	@test -d $(DATA) || { echo "make eval: no data sets in $(DATA); set DATA=... (see README: Evaluation)"; exit 2; }
	.venv/bin/reco ope obd --data $(DATA)/obd
	.venv/bin/reco eval --dataset taobao $(DATA)/taobao-userbehavior-head/UserBehavior_head.csv
	.venv/bin/reco eval --dataset yoochoose --targets product_view --name eval-yoochoose \
	    $(DATA)/yoochoose-100k-sessionrec/yoochoose-clicks-100k_train_full.txt

proto: venv  ## regenerate reco/v1 from proto/
	PY=$(PY) deploy/gen_protos.sh

lock: venv  ## re-lock the full dependency set from the venv
	( echo "# Full locked dependency set (direct pins are in pyproject.toml). Regenerate: make lock"; \
	  $(PY) -m pip freeze --exclude-editable ) > requirements.lock

clean: down  ## remove caches, checkpoints and the local stack's data (keeps venv and jars)
	rm -rf .cache/stack .cache/checkpoints .cache/serving .pytest_cache .mypy_cache .ruff_cache
