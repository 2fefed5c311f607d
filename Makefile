# evently: PGXS build of the extension, plus the project's two commands.
#
#   make run    a private cluster under .evently/ with the extension and seed data
#   make test   every suite, from a clean clone; non-zero on any failure

EXTENSION   = evently evently_proxy
MODULE_big  = evently
OBJS        = $(patsubst %.c,%.o,$(wildcard extension/*.c))

# Versions (SPEC section 14).  1.0 is released: its script is frozen.  The
# current version's install script and the upgrade to it are built from the
# per-concern sources under extension/sql/ (extension/assemble.sh).
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(dir $(firstword $(MAKEFILE_LIST)))evently.control)
SQL_SOURCES = $(sort $(wildcard extension/sql/*.sql))
SQL_CODE    = $(filter-out extension/sql/00_schema.sql,$(SQL_SOURCES))
DATA        = extension/evently--1.0.sql
DATA_built  = extension/evently--$(EXTVERSION).sql extension/evently--1.0--$(EXTVERSION).sql \
              extension/evently_proxy--$(EXTVERSION).sql
PG_CPPFLAGS = -I$(srcdir)/extension
# libsodium: the Ed25519 signatures of ticket codes (extension/signing.c)
SHLIB_LINK  = -lsodium
PG_CFLAGS   = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-sign-compare $(if $(CI),-Werror)

# pg_regress and the isolation tester each bring a temporary server, so the
# suites need no running cluster; their output goes under .evently/ where the
# unprivileged test user may write.
TEST_OUT    ?= $(CURDIR)/.evently/test
REGRESS     = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --temp-instance=$(TEST_OUT)/regress-instance --outputdir=$(TEST_OUT)/regress \
               --temp-config=$(srcdir)/tests/test.conf \
               --load-extension=pgcrypto --load-extension=evently
ISOLATION   = $(sort $(basename $(notdir $(wildcard tests/isolation/specs/*.spec))))
ISOLATION_OPTS = --temp-instance=$(TEST_OUT)/isolation-instance --outputdir=$(TEST_OUT)/isolation \
                 --inputdir=$(srcdir)/tests/isolation --temp-config=$(srcdir)/tests/test.conf \
                 --load-extension=pgcrypto --load-extension=evently

# the HTTP gateway, and the Kafka side (bridge, inbox consumer, local
# broker): plain C programs next to the extension, sharing log.c
KAFKA_SRCS  = shim/bridge.c shim/notify.c shim/broker.c shim/kafka.c
SHIM_SRCS   = $(filter-out $(KAFKA_SRCS),$(wildcard shim/*.c))
SHIM_CFLAGS = -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers $(if $(CI),-Werror)
KAFKA_PROGRAMS = shim/evently-bridge shim/evently-notify shim/evently-broker
# the tests' stand-in for the card provider (Stripe's API shape, loopback only)
FAKE_PROVIDER = tests/payments/evently-fake-provider
# the offline door scanner's check of a signed ticket code: the public key alone
VERIFY_TICKET = tests/checkin/verify-ticket
EXTRA_CLEAN = shim/evently-shim $(KAFKA_PROGRAMS) $(FAKE_PROVIDER) $(VERIFY_TICKET)

PG_CONFIG ?= $(shell test -x /usr/lib/postgresql/15/bin/pg_config && \
                     echo /usr/lib/postgresql/15/bin/pg_config || echo pg_config)
# the scripts under tests/ run the PostgreSQL this names
export PG_CONFIG
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
endif

# installing into PostgreSQL's directories needs root
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

all: shim/evently-shim $(KAFKA_PROGRAMS) $(FAKE_PROVIDER) $(VERIFY_TICKET)

# the install script: every source in its numbered order
extension/evently--$(EXTVERSION).sql: $(SQL_SOURCES) extension/assemble.sh
	@extension/assemble.sh $@ 'CREATE EXTENSION evently CASCADE' $(SQL_SOURCES)

# the upgrade from 1.0: the state's changes (extension/updates/), then every
# function, view and trigger again from the same sources as a fresh install,
# then the data changes that need the new functions (...-data.sql)
UPGRADE_1_0 = extension/updates/1.0--$(EXTVERSION).sql $(SQL_CODE) extension/updates/1.0--$(EXTVERSION)-data.sql
extension/evently--1.0--$(EXTVERSION).sql: $(UPGRADE_1_0) extension/assemble.sh
	@extension/assemble.sh $@ "ALTER EXTENSION evently UPDATE TO '$(EXTVERSION)'" $(UPGRADE_1_0)

# the proxy database of evently on shards (SPEC section 13): the hand-written
# part, then a function per route generated from the shim's route table
extension/evently_proxy--$(EXTVERSION).sql: extension/proxy/base.sql shim/evently-shim
	@{ cat extension/proxy/base.sql && shim/evently-shim --proxy-sql; } >$@.tmp && mv $@.tmp $@

# the headers every object file includes (PGXS does not track them)
$(OBJS): extension/evently.h extension/errors.h extension/error_codes.def


shim/evently-shim: $(SHIM_SRCS) $(wildcard shim/*.h) extension/error_codes.def
	$(CC) $(SHIM_CFLAGS) -I$(shell $(PG_CONFIG) --includedir) -o $@ $(SHIM_SRCS) \
	    -lmicrohttpd -ljansson -ljwt -lpq -lcurl -lcrypto -lsodium -lqrencode -lpng -lpthread -lm

shim/evently-%: shim/%.c shim/kafka.c shim/log.c shim/kafka.h shim/shim.h
	$(CC) $(SHIM_CFLAGS) -I$(shell $(PG_CONFIG) --includedir) -o $@ shim/$*.c shim/kafka.c shim/log.c \
	    -lrdkafka -ljansson -lpq

# evently-notify also sends e-mail (SMTP through libcurl) with the tickets' QR codes
shim/evently-notify: shim/notify.c shim/qr.c shim/kafka.c shim/log.c shim/kafka.h shim/qr.h shim/shim.h
	$(CC) $(SHIM_CFLAGS) -I$(shell $(PG_CONFIG) --includedir) -o $@ shim/notify.c shim/qr.c shim/kafka.c shim/log.c \
	    -lrdkafka -ljansson -lpq -lcurl -lsodium -lqrencode -lpng

$(FAKE_PROVIDER): tests/payments/fake-provider.c
	$(CC) $(SHIM_CFLAGS) -o $@ $< -lmicrohttpd -lcurl -ljansson -lcrypto -lpthread

$(VERIFY_TICKET): tests/checkin/verify-ticket.c
	$(CC) $(SHIM_CFLAGS) -o $@ $< -lsodium

.PHONY: deps run stop reset test bench test-regress test-isolation test-upgrade test-stress test-shim test-bridge test-scaleout expected

deps:
	@bash tests/deps.sh

run: deps
	@$(MAKE) --no-print-directory all && $(SUDO) $(MAKE) --no-print-directory install
	@bash tests/run.sh start

stop:
	@bash tests/run.sh stop

# make stop, then delete .evently/ (cluster, secret, logs): the next make run starts anew
reset:
	@bash tests/run.sh reset

test: deps
	@$(MAKE) --no-print-directory all && $(SUDO) $(MAKE) --no-print-directory install
	@bash tests/run-tests.sh

# One suite, or some of its files (README, Developing):
#   make test-regress REGRESS="01_hold 03_cancel"
#   make test-isolation ISOLATION=hold-hold
#   make test-shim PROVE_TESTS=tests/shim/t/003_booking_flow.pl
test-regress test-isolation test-upgrade test-stress test-shim test-bridge test-scaleout: deps
	@$(MAKE) --no-print-directory all && $(SUDO) $(MAKE) --no-print-directory install
	@REGRESS="$(call given,REGRESS)" ISOLATION="$(call given,ISOLATION)" PROVE_TESTS="$(PROVE_TESTS)" \
	    bash tests/run-tests.sh $(@:test-%=%)

# a variable's value if set on make's command line, else nothing
given = $(if $(filter command line,$(origin $(1))),$($(1)))

# After a run, take its output as the new expected output of the files that
# ran: only once the diff in $(TEST_OUT)/*/regression.diffs is what you meant
# (then read `git diff expected/ tests/isolation/expected/` before committing).
expected:
	@for f in $(wildcard $(TEST_OUT)/regress/results/*.out); do cp -v $$f expected/; done
	@for f in $(wildcard $(TEST_OUT)/isolation/results/*.out); do cp -v $$f tests/isolation/expected/; done

bench: deps
	@$(MAKE) --no-print-directory all && $(SUDO) $(MAKE) --no-print-directory install
	@bash tests/bench/engine.sh
	@bash tests/bench/shim.sh
	@bash tests/bench/bridge.sh
	@bash tests/bench/ga-flash-sale.sh
	@bash tests/bench/flash-sale.sh
	@bash tests/bench/checkin-rush.sh

# the two halves of installcheck, so make test reports them apart
.PHONY: installcheck-regress installcheck-isolation
installcheck-regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

installcheck-isolation:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
