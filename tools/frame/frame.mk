# tools/frame/frame.mk: the `frame` command-line tool and the Wireshark
# dissector, included by the top Makefile.
#   make frame-tool            builds build/tools/frame (also part of `make` / `make all`)
#   make install / uninstall   also install $(BINDIR)/frame and the dissector
#                              ($(DATADIR)/libframe/libframe.lua)
#   make test-frame-tool       frame against every vector, encode|decode round trips,
#                              send/listen against each other and the Python package
#   make test-frame-tool-asan  the same tests against the tool and library built with
#                              ASan + UBSan (build/asan; slower, not in `make test`)
#   make test-wireshark        tshark with tools/wireshark/libframe.lua on generated pcaps
#                              (skips without tshark unless REQUIRE_TOOLS=1)

INSTALL ?= install
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
FRAME_TOOL := $(BUILD)/tools/frame
# Capture files (pcap, pcapng) are read with libpcap when its header is there
# (Debian libpcap-dev); without it, nopcap.c refuses them with a message.
FRAME_TOOL_PCAP := $(shell printf '\043include <pcap/pcap.h>\n' | $(CC) -E - >/dev/null 2>&1 && echo yes)
FRAME_TOOL_SRCS := $(filter-out tools/frame/$(if $(FRAME_TOOL_PCAP),nopcap,pcap).c,$(sort $(wildcard tools/frame/*.c)))
FRAME_TOOL_LIBS := $(if $(FRAME_TOOL_PCAP),-lpcap)
FRAME_TOOL_OBJS := $(FRAME_TOOL_SRCS:tools/frame/%.c=$(BUILD)/tools/obj/%.o)
# _GNU_SOURCE: getopt_long, accept4, open_memstream, SOCK_NONBLOCK.
FRAME_TOOL_CFLAGS := $(ALL_CFLAGS) -D_GNU_SOURCE
WIRESHARK_LUA := tools/wireshark/libframe.lua

.PHONY: frame-tool install-frame-tool uninstall-frame-tool test-frame-tool test-frame-tool-asan test-wireshark
all: frame-tool
frame-tool: $(FRAME_TOOL)

$(BUILD)/tools/obj/%.o: tools/frame/%.c tools/frame/tool.h tools/frame/net.h include/frame.h
	@mkdir -p $(@D)
	$(CC) $(FRAME_TOOL_CFLAGS) -c $< -o $@

$(FRAME_TOOL): $(FRAME_TOOL_OBJS) $(LIBA)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(FRAME_TOOL_OBJS) $(LIBA) $(FRAME_TOOL_LIBS)

install: install-frame-tool
uninstall: uninstall-frame-tool
install-frame-tool: $(FRAME_TOOL)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/libframe
	$(INSTALL) -m 755 $(FRAME_TOOL) $(DESTDIR)$(BINDIR)/frame
	$(INSTALL) -m 644 $(WIRESHARK_LUA) $(DESTDIR)$(DATADIR)/libframe/libframe.lua
uninstall-frame-tool:
	rm -f $(DESTDIR)$(BINDIR)/frame $(DESTDIR)$(DATADIR)/libframe/libframe.lua
	-rmdir $(DESTDIR)$(DATADIR)/libframe 2>/dev/null

# Zero warnings with the project's flags, as errors, with gcc and clang; then
# the behaviour tests (Python, standard library only).
test-frame-tool: $(FRAME_TOOL)
	@set -e; for cc in gcc clang; do \
	    if command -v $$cc >/dev/null; then \
	        for f in $(sort $(FRAME_TOOL_SRCS) tools/frame/nopcap.c); do $$cc $(WARN) -Werror -O2 -Iinclude -D_GNU_SOURCE -c $$f -o /dev/null; done; \
	        echo "test-frame-tool: $$cc: tools/frame/*.c compile with zero warnings (-Werror)"; \
	    fi; done
	FRAME_TOOL_PCAP=$(FRAME_TOOL_PCAP) $(PYTHON) tools/frame/tests/test_frame.py $(FRAME_TOOL)
	@rm -rf $(BUILD)/tools/install && $(MAKE) --no-print-directory -s install-frame-tool DESTDIR=$(abspath $(BUILD))/tools/install PREFIX=/usr
	$(BUILD)/tools/install/usr/bin/frame --version | grep -q '^frame (libframe $(VERSION))$$'
	test -f $(BUILD)/tools/install/usr/share/libframe/libframe.lua
	@rm -rf $(BUILD)/tools/install && echo "test-frame-tool: make install-frame-tool installs bin/frame and share/libframe/libframe.lua"

FRAME_ASAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
test-frame-tool-asan:
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan CFLAGS='-O1 -g $(FRAME_ASAN)' LDFLAGS='$(FRAME_ASAN)' frame-tool
	FRAME_TOOL_PCAP=$(FRAME_TOOL_PCAP) $(PYTHON) tools/frame/tests/test_frame.py $(BUILD)/asan/tools/frame

test-wireshark: $(FRAME_TOOL)
	$(PYTHON) tools/wireshark/tests/test_dissector.py $(FRAME_TOOL)

TEST_TARGETS += test-frame-tool test-wireshark
