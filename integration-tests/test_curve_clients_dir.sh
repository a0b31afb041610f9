#!/usr/bin/env bash
# security.clients-dir (issue 8): operators manage client keys as files. A directory holds the
# public certificates `raftvisor keys gen NAME` writes (NAME.pub), each a client of principal
# NAME beside the inline security.clients:
#   - bob, whose key is only in the directory, is served, and what he creates is owned by bob;
#   - mallory, whose key is nowhere, is refused at the handshake, said at once;
#   - `config check` counts the directory's clients, and refuses a directory holding a secret
#     file or a node's key, naming the file.
source "$(dirname "$0")/lib.sh"
mkdir -p -m 0700 "$T/clients"
key_of bob >/dev/null
key_of mallory >/dev/null
cp "$T/keys/bob.pub" "$T/clients/bob.pub"
SECURITY_EXTRA="  clients-dir: $T/clients"
fs_cluster 3
out=$("$RV" config check -c "$T/n1.yaml")
assert_contains "$out" "2 clients accepted" "config check with one inline client and one in the dir"
fs 1 -mkdir /bobs
fs 1 -chown bob /bobs
as() { # as NAME I ARGS...: raftvisor fs through node nI with NAME's key
  local who=$1 i=$2
  shift 2
  "$RV" fs --key "$T/keys/$who.secret" -c "$T/n$i.yaml" "$@"
}
as bob 2 -mkdir /bobs/made || fail "bob (key only in security.clients-dir) is not served"
assert_eq "$(fs 1 -stat %u /bobs/made)" bob "the owner of what bob's key created"
as bob 3 -ls / >/dev/null || fail "bob cannot list /"
expect_fail 1 "the server refused our key" as mallory 1 -ls /
# config check names a bad file in the directory
cp "$T/keys/mallory.secret" "$T/clients/mallory.pub"
code=0
out=$("$RV" config check -c "$T/n1.yaml" 2>&1) || code=$?
[ "$code" -ne 0 ] || fail "config check took a secret file in security.clients-dir"
assert_contains "$out" "$T/clients/mallory.pub: holds a secret-key" "config check, a secret file"
rm "$T/clients/mallory.pub"
cp "$T/keys/n2.pub" "$T/clients/n2copy.pub"
code=0
out=$("$RV" config check -c "$T/n1.yaml" 2>&1) || code=$?
[ "$code" -ne 0 ] || fail "config check took a node's key in security.clients-dir"
assert_contains "$out" "$T/clients/n2copy.pub: its name is \"n2\", not n2copy" \
  "config check, a node's certificate renamed"
rm "$T/clients/n2copy.pub"
digests_equal 3
log "PASS: a client listed only in security.clients-dir is served as its file's name"
