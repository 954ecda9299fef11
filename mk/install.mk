# The install check: install into a temporary prefix, build a consumer with pkg-config, run it.
CHECKS += check-install
.PHONY: check-install
check-install: all
	$(Q)scripts/check-install "$(MAKE) --no-print-directory"
