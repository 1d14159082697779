# Margin: common tasks. `make check` is what to run before pushing.
GO ?= go
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: run build test check fmt vet staticcheck race tools

run:
	$(GO) run ./server

build:
	$(GO) build -o bin/margin ./server

test:
	$(GO) test ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

tools:
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@latest

staticcheck: tools
	$(STATICCHECK) ./...

race:
	$(GO) test -race -count=1 ./...

check: fmt vet staticcheck race
