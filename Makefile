# Two commands matter: `make audit` (read-only audit of this host) and `make test` (everything).
SHELL := /bin/bash
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# The checkout as collection tcptune.linux (ansible_collections/tcptune/linux -> this directory).
COLLECTIONS := $(CURDIR)/.cache/collections
ENV := PATH="$(BIN):$$PATH" ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS)"

.PHONY: audit test venv collection lint sanity units testbed vm-images vm molecule build clean

## audit: audit localhost with the tcp_tuning role in audit mode (and --check as a second guard); changes nothing
audit: venv collection
	@if [ -f playbooks/tune-tcp.yml ]; then \
	  $(ENV) $(BIN)/ansible-playbook -i localhost, -c local playbooks/tune-tcp.yml -e tcp_tuning_audit_only=true --check; \
	else \
	  echo "playbooks/tune-tcp.yml not there yet: showing tcptune.linux.tcp_facts instead"; \
	  $(ENV) $(BIN)/ansible localhost -i localhost, -c local -m tcptune.linux.tcp_facts; \
	fi

## test: bootstrap everything, run every check (tests/run-all.sh)
test:
	@bash tests/run-all.sh

venv:
	@bash tests/bootstrap-venv.sh

collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/tcptune
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/tcptune/linux

lint: venv collection
	$(ENV) $(BIN)/yamllint .
	$(ENV) $(BIN)/ansible-lint --offline --profile production

sanity: venv
	bash tests/ansible-test.sh sanity

units: venv
	bash tests/ansible-test.sh units

testbed:
	bash tests/testbed.sh

## vm-images: cached Debian 11/12/13 guest images for the VM scenario (tests/vm/build.sh)
vm-images:
	bash tests/vm/build.sh

## vm: the whole-host scenario on Debian 11, 12 and 13 guests under qemu (~20-30 min)
vm: venv collection vm-images
	@$(ENV) $(BIN)/molecule test -s vm

## molecule: every scenario under molecule/ (needs the test bed and the VM images)
molecule: venv collection testbed vm-images
	@set -a; . .cache/testbed.env; set +a; \
	for conf in molecule/*/molecule.yml; do \
	  s=$$(basename $$(dirname $$conf)); echo "== molecule test -s $$s"; \
	  $(ENV) $(BIN)/molecule test -s $$s || exit 1; \
	done

## build: collection tarball in .build/
build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path .build .

clean:
	rm -rf .build tests/output .cache/collections
