# runtimefs - see README.md.
#
#   make            build build/runtimefs
#   make run        install what is missing, build, mount ./mnt on ./runtimefs.db
#   make bench      the benchmark against tmpfs (see README.md, "Benchmark")
#   make test       install what is missing, build, run every test (also
#                   under ASan+UBSan, the unit tests under valgrind, and
#                   each fuzz target for a short fixed number of runs)
#   make test-runner  show that the mount tests' runner ends a hung test
#   make fuzz       fuzz every parser of outside input for FUZZ_SECONDS
#   make install    install the binary, mount helper and systemd unit

CC ?= cc
PKGS := fuse3 sqlite3 libpq libcjson libsodium yajl libmicrohttpd gnutls
OPT ?= -O2 -g
CFLAGS += $(OPT) -std=gnu11 -Wall -Wextra -Werror -D_FILE_OFFSET_BITS=64 \
	$(shell pkg-config --cflags $(PKGS) cmocka 2>/dev/null)
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
TEST_LDLIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

BUILD ?= build
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all

# Debian 12 packages the build, the tests and the bench need.
DEPS := gcc make pkg-config libfuse3-dev fuse3 libsqlite3-dev libcjson-dev \
	libsodium-dev libyajl-dev libcmocka-dev valgrind jq rsync vim tar \
	sqlite3 bc clang libclang-rt-14-dev python3 libmicrohttpd-dev \
	libgnutls28-dev curl openssl wrk strace postgresql-15 libpq-dev less \
	bsdutils

STORE_SRC := store/store.c store/store_sqlite.c store/store_pg.c \
	store/errmsg.c
MODEL_SRC := model/model.c model/env.c model/project.c model/runtime.c \
	model/seal.c model/snapshot.c model/deploy.c model/endpoint.c \
	model/service_account.c model/secret.c model/heartbeat.c \
	model/liveness.c model/restore.c model/remove.c model/json.c \
	model/rows.c model/keys.c model/known.c model/jwt.c model/artifact.c \
	model/events.c model/audit.c \
	model/feed.c
FS_SRC := fs/buf.c fs/icp_api.c fs/tree.c fs/org.c fs/project.c fs/lasterr.c \
	fs/ops.c \
	fs/request.c fs/snapshot.c fs/deploy.c fs/scratch.c fs/icp.c \
	fs/access.c fs/inode.c fs/cache.c fs/stage.c fs/backup.c fs/walk.c \
	fs/clock.c fs/notifyq.c fs/artifact.c fs/https.c fs/tlscert.c \
	fs/icp_http.c fs/events.c fs/loop.c
CORE_SRC := $(STORE_SRC) $(MODEL_SRC)
UNIT_TESTS := test_buf test_inode test_errmsg test_notifyq test_store \
	test_store_conformance test_model test_deploy test_heartbeat \
	test_restore test_backup test_tree test_remove test_faults test_json \
	test_jwt test_icp test_https test_events

objs = $(patsubst %.c,$(BUILD)/%.o,$(1))
HEADERS := $(wildcard */*.h tests/*/*.h)

all: $(BUILD)/runtimefs

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/runtimefs: $(call objs,$(CORE_SRC) $(FS_SRC) fs/main.c)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/test_buf: $(BUILD)/tests/unit/test_buf.o $(BUILD)/fs/buf.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(TEST_LDLIBS)

$(BUILD)/tests/test_inode: $(BUILD)/tests/unit/test_inode.o $(BUILD)/fs/inode.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lpthread $(TEST_LDLIBS)

$(BUILD)/tests/test_notifyq: $(BUILD)/tests/unit/test_notifyq.o \
		$(BUILD)/fs/notifyq.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lpthread $(TEST_LDLIBS)

$(BUILD)/tests/test_errmsg: $(BUILD)/tests/unit/test_errmsg.o \
		$(BUILD)/store/errmsg.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lpthread $(TEST_LDLIBS)

# ICP's runtime tokens see jwt.c alone (and the error message).
$(BUILD)/tests/test_jwt: $(BUILD)/tests/unit/test_jwt.o \
		$(BUILD)/model/jwt.o $(BUILD)/store/errmsg.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LDLIBS)

# A bearer token for a secret, as a runtime makes it: for the mount
# tests, the bench and by hand (tests/tools/icp_token.c).
$(BUILD)/tests/icp-token: $(BUILD)/tests/tools/icp_token.o \
		$(BUILD)/model/jwt.o $(BUILD)/store/errmsg.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the listener alone, with a toy handler, and its certificate
$(BUILD)/tests/test_https: $(BUILD)/tests/unit/test_https.o \
		$(call objs,fs/https.c fs/tlscert.c fs/buf.c $(STORE_SRC))
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LDLIBS)

# the fs side of restores, and the node table: all of fs/ but main.c
$(BUILD)/tests/test_backup $(BUILD)/tests/test_tree: \
		$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o \
		$(call objs,$(CORE_SRC) $(FS_SRC))
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LDLIBS)

# ICP's runtime API: the model and fs/icp_api.c, which knows no FUSE.
$(BUILD)/tests/test_icp: $(BUILD)/tests/unit/test_icp.o \
		$(call objs,$(CORE_SRC) fs/icp_api.c fs/buf.c)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LDLIBS)

# The store's tests see the store alone.
$(BUILD)/tests/test_store $(BUILD)/tests/test_store_conformance: \
		$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(call objs,$(STORE_SRC))
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(call objs,$(CORE_SRC))
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LDLIBS)

# The test build with faults (store.h, "Fault injection"): the store and
# the model compiled with -DSTORE_FAULTS, apart in $(BUILD)/faults, for
# test_faults and for a daemon that takes RUNTIMEFS_FAULT=N:ERRNO.
FAULTS := $(BUILD)/faults
fobjs = $(patsubst %.c,$(FAULTS)/%.o,$(1))

$(FAULTS)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DSTORE_FAULTS -c -o $@ $<

$(BUILD)/tests/test_faults: $(call fobjs,tests/unit/test_faults.c $(CORE_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LDLIBS)

$(BUILD)/tests/runtimefs-faults: $(call fobjs,$(CORE_SRC) $(FS_SRC) fs/main.c)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit-bins: $(addprefix $(BUILD)/tests/,$(UNIT_TESTS)) $(BUILD)/tests/icp-token

$(BUILD)/bench/load: bench/load.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lpthread

# the daemon's listener (fs/https.c) answering a fixed reply, for HTTPS=1
$(BUILD)/bench/fixed_reply: $(BUILD)/bench/fixed_reply.o \
		$(call objs,fs/https.c fs/tlscert.c fs/buf.c $(STORE_SRC))
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The benchmark against tmpfs (bench/run.sh); writes bench/results.md.
#   make bench                  10 × 1,000 agent runtimes, the whole suite
#   make bench BIG=1            1 × 100,000 MI runtimes: listing, RSS, size
#   make bench ENVS=2 PER_ENV=250 RUNS=3 ROW_BUDGET=60
#   make bench HTTPS=1          ICP heartbeats/s over HTTPS (wrk) against
#                               the listener with a fixed reply; RSS at 100k
#   make bench PG=1             the suite on SQLite, then on a private
#                               PostgreSQL 15 (tests/pg.sh), side by side
#   make bench AB=/tmp/old/build/runtimefs [PG=1]  repoints and heartbeats of an
#                               older build beside this one (bench/ab.sh)
# The populated database is cached in /var/tmp/runtimefs-bench (BENCH_DIR).
bench: deps all $(BUILD)/bench/load $(BUILD)/tests/icp-token \
		$(BUILD)/bench/fixed_reply
	RUNTIMEFS=$${RUNTIMEFS:-$(BUILD)/runtimefs} LOAD=$(BUILD)/bench/load \
	ICP_TOKEN=$(BUILD)/tests/icp-token \
	FIXED_REPLY=$(BUILD)/bench/fixed_reply bash bench/run.sh

# What PostgreSQL itself allows a repoint here (bench/pg_floor.sh): a
# repoint's SQL by pgbench in 4 to 1 round trips, beside the daemon's
# repoints on both backends, interleaved; writes bench/results.md.
#   make bench-floor ROUNDS=7
bench-floor: deps all $(BUILD)/bench/load
	RUNTIMEFS=$(BUILD)/runtimefs LOAD=$(BUILD)/bench/load \
	bash bench/pg_floor.sh $(or $(ROUNDS),5)

deps:
	@missing=$$(for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq $$missing >/dev/null; \
	fi

run: deps all
	@sh mountscripts/mount.runtimefs --recover mnt
	@mkdir -p mnt
	@echo "mounting ./mnt on ./runtimefs.db (Ctrl-C or 'fusermount3 -u mnt' to stop)."
	@echo "try, in another shell:"
	@echo "  mkdir mnt/environments/prod"
	@echo "  mkdir mnt/environments/prod/runtimes/chat"
	@echo "  cat mnt/environments/prod/runtimes/chat/status"
	./$(BUILD)/runtimefs --db ./runtimefs.db -f mnt

# The tests, one level at a time; `make test` runs them all.
test-unit: unit-bins
	@for t in $(UNIT_TESTS); do ./$(BUILD)/tests/$$t || exit 1; done
	$(MAKE) test-store-pg

# The store's contract on PostgreSQL too: tests/pg.sh starts a private
# PostgreSQL 15 for the run and gives its connection string in
# RUNTIMEFS_TEST_LOCATOR (skipped without PostgreSQL, except under
# CI=true).  PG_WRAP runs the suite under valgrind.
test-store-pg: $(BUILD)/tests/test_store_conformance
	bash tests/pg.sh $(PG_WRAP) ./$(BUILD)/tests/test_store_conformance

MOUNT_ENV = RUNTIMEFS=$(BUILD)/runtimefs \
	RUNTIMEFS_FAULTS=$(BUILD)/tests/runtimefs-faults \
	ICP_TOKEN=$(BUILD)/tests/icp-token

# The mount tests once per backend: on SQLite files, then on a private
# PostgreSQL 15 that tests/pg.sh starts for the run, each test in a
# schema of its own (skipped without PostgreSQL, except under CI=true).
test-mount: all $(BUILD)/tests/runtimefs-faults $(BUILD)/tests/icp-token
	$(MOUNT_ENV) bash tests/mount/run.sh
	$(MAKE) test-mount-pg

test-mount-pg: all $(BUILD)/tests/runtimefs-faults $(BUILD)/tests/icp-token
	$(MOUNT_ENV) bash tests/pg.sh bash tests/mount/run.sh

# The mount tests' runner itself: a hung test is reported, cleaned up and
# fails the run (tests/mount/selftest/).
test-runner: all
	RUNTIMEFS=$(BUILD)/runtimefs bash tests/mount/selftest/check.sh

VALGRIND := valgrind -q --leak-check=full \
	--show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99

test-valgrind: unit-bins
	@for t in $(UNIT_TESTS); do \
		$(VALGRIND) ./$(BUILD)/tests/$$t >/dev/null || exit 1; \
		echo "valgrind: $$t: no errors, no leaks"; done
	@$(MAKE) -s test-store-pg PG_WRAP="$(VALGRIND)" >/dev/null && \
		echo "valgrind: test_store_conformance (postgresql): no errors," \
		"no leaks"

test-san:
	$(MAKE) BUILD=build-san OPT="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
		test-unit test-mount

test: deps
	$(MAKE) all
	$(MAKE) test-unit
	$(MAKE) test-mount
	$(MAKE) test-runner
	$(MAKE) test-valgrind
	$(MAKE) test-san
	$(MAKE) test-fuzz

# Fuzzing (tests/fuzz/): a libFuzzer target for every parser of outside
# input, built with clang, the code under test too (gcc's objects give
# libFuzzer no coverage), into build-fuzz/.  Each runs on a copy of its
# seed corpus, tests/fuzz/corpus/TARGET/, and stops at the first finding,
# kept in build-fuzz/findings/TARGET/; a finding, once fixed, goes into
# the corpus.
#   make fuzz                          every target FUZZ_SECONDS (600) each
#   make -j2 fuzz                      two at a time
#   make fuzz FUZZ_TARGETS=fuzz_json FUZZ_SECONDS=60
#   make test-fuzz                     each for FUZZ_RUNS (20000) runs
FUZZ_BUILD := build-fuzz
FUZZ_CC := clang
FUZZ_TARGETS := fuzz_json fuzz_spec fuzz_heartbeat fuzz_restore fuzz_names \
	fuzz_jwt
FUZZ_SECONDS ?= 600
FUZZ_RUNS ?= 20000
FUZZ_FLAGS ?= -max_len=8192 -timeout=20
FUZZ_CFLAGS := -O1 -g -std=gnu11 -Wall -Wextra -Werror \
	-D_FILE_OFFSET_BITS=64 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)

$(FUZZ_BUILD)/%.o: %.c $(HEADERS) tests/fuzz/fuzz.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o \
		$(patsubst %.c,$(FUZZ_BUILD)/%.o,$(CORE_SRC))
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# the restore target reads backups on the fs side too: all of fs/ but
# main.c
$(FUZZ_BUILD)/fuzz_restore: $(FUZZ_BUILD)/tests/fuzz/fuzz_restore.o \
		$(patsubst %.c,$(FUZZ_BUILD)/%.o,$(CORE_SRC) $(FS_SRC))
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz-bins: $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))

fuzz: $(addprefix fuzz-run-,$(FUZZ_TARGETS))

fuzz-run-%: $(FUZZ_BUILD)/%
	@rm -rf $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/findings/$*
	@mkdir -p $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/findings/$*
	@cp tests/fuzz/corpus/$*/* $(FUZZ_BUILD)/corpus/$*/
	@./$< $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) \
		-print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/findings/$*/ \
		$(FUZZ_BUILD)/corpus/$* > $(FUZZ_BUILD)/$*.log 2>&1 || { \
		tail -40 $(FUZZ_BUILD)/$*.log; \
		echo "fuzz: $* found something: $$(ls $(FUZZ_BUILD)/findings/$*/*)"; \
		exit 1; }
	@grep '^#[0-9]*.*DONE' $(FUZZ_BUILD)/$*.log | sed 's/^/fuzz: $*: /'

test-fuzz: fuzz-bins
	@for t in $(FUZZ_TARGETS); do \
		rm -rf $(FUZZ_BUILD)/new/$$t $(FUZZ_BUILD)/findings/$$t; \
		mkdir -p $(FUZZ_BUILD)/new/$$t $(FUZZ_BUILD)/findings/$$t; \
		./$(FUZZ_BUILD)/$$t $(FUZZ_FLAGS) -runs=$(FUZZ_RUNS) -seed=1 \
			-artifact_prefix=$(FUZZ_BUILD)/findings/$$t/ \
			$(FUZZ_BUILD)/new/$$t tests/fuzz/corpus/$$t \
			> $(FUZZ_BUILD)/$$t.log 2>&1 || { \
			tail -40 $(FUZZ_BUILD)/$$t.log; \
			echo "fuzz: $$t found something:" \
				$(FUZZ_BUILD)/findings/$$t/*; exit 1; }; \
		echo "fuzz: $$t: $$(sed -n 's/^#\([0-9]*\).*DONE *\(cov: [0-9]*\).*/\1 runs, \2/p' \
			$(FUZZ_BUILD)/$$t.log), no finding"; \
	done

# Where `make install` puts things.  mount(8) looks for helpers in /sbin
# only, whatever PREFIX is.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= /sbin
UNITDIR ?= /etc/systemd/system

install: all
	install -D -m 0755 $(BUILD)/runtimefs $(DESTDIR)$(BINDIR)/runtimefs
	sed 's|@BINDIR@|$(BINDIR)|g' mountscripts/mount.runtimefs > $(BUILD)/mount.runtimefs
	install -D -m 0755 $(BUILD)/mount.runtimefs $(DESTDIR)$(SBINDIR)/mount.runtimefs
	ln -sf mount.runtimefs $(DESTDIR)$(SBINDIR)/mount.fuse.runtimefs
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
		mountscripts/runtimefs.service > $(BUILD)/runtimefs.service
	install -D -m 0644 $(BUILD)/runtimefs.service $(DESTDIR)$(UNITDIR)/runtimefs.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/runtimefs $(DESTDIR)$(SBINDIR)/mount.runtimefs \
		$(DESTDIR)$(SBINDIR)/mount.fuse.runtimefs \
		$(DESTDIR)$(UNITDIR)/runtimefs.service

clean:
	rm -rf build build-san $(FUZZ_BUILD)

.SECONDARY:

.PHONY: all deps run test test-unit test-store-pg test-mount test-mount-pg \
	test-runner \
	test-valgrind \
	test-san unit-bins bench bench-floor install uninstall clean fuzz fuzz-bins \
	test-fuzz
