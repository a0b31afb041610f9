#!/usr/bin/env bash
# raftvisor fs against Hadoop 3's FsShell, as its documentation and its CLI tests describe it:
# one table of cases, run in order against a live three-node cluster. Each case is
#   EXIT | ARGUMENTS | PATTERN
# ARGUMENTS follow `raftvisor fs -c n1.yaml` (shell words: quotes, $L = a local directory,
# $ME = the principal, $C = the cluster id); stdin is empty. PATTERN is an extended regex that
# some line of stdout+stderr must match, or the whole output with its lines joined by ';'
# (to check an order); "-" means no output at all. Cases with the deliberate differences from
# Hadoop (README "raftvisor fs and hadoop fs") expect our behaviour and say so.
# The run prints how many cases pass and fails if any does not.
source "$(dirname "$0")/lib.sh"
fs_cluster 3
C=it
ME=$(id -un)
L=$T/local
mkdir -p "$L/ldir"
printf 'abcd\n' >"$L/f5"
printf '123456789\n' >"$L/f10"
printf 'm1\n' >"$L/m1"
printf 'a\n' >"$L/ldir/a"
printf 'b\n' >"$L/ldir/b"
head -c 2048 /dev/zero | tr '\0' 'k' >"$L/k2"
{ printf 'HEADSTART'; head -c 3000 /dev/zero | tr '\0' 'x'; printf 'TAILEND\n'; } >"$L/big"

cases=$(cat <<'TABLE'
# relative paths: the working directory is /user/<principal>; -ls with no path lists it
1 | -ls | ^ls: `\.': No such file or directory$
0 | -mkdir -p /user/$ME | -
0 | -ls | -
0 | -mkdir dir0 dir1 | -
0 | -ls | ^Found 2 items$
0 | -ls | ^drwxr-xr-x +- [^ ]+ +supergroup +0 [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} dir0$
0 | -ls /user/$ME | /user/[^ /]+/dir1$
0 | -touchz dir0/file0 | -
0 | -ls dir0 | ^-rw-r--r-- +3 [^ ]+ +supergroup +0 .* dir0/file0$
0 | -ls ./dir0/ | dir0/file0$
0 | -ls -d ../$ME/dir1 | [0-9] dir1$
0 | -ls -d . | [0-9] \.$
1 | -ls nonexist | ^ls: `nonexist': No such file or directory$
0 | -put $L/f5 rel5 | -
0 | -cat rel5 | ^abcd$
0 | -count dir0 | ^ +1 +1 +0 dir0$
0 | -du | ^0 +0 +dir0$
1 | -mkdir nodir/x | ^mkdir: `mkdir failed for path: nodir/x\. Item parent path not found: nodir\.': No such file or directory$
# URIs: hdfs://, jfs://, rv://; the authority is the cluster id or a node
0 | -ls hdfs://$C/user/$ME | ^drwxr-xr-x .* hdfs://it/user/[^ /]+/dir0$
0 | -ls hdfs:///user/$ME/dir0 | hdfs:///user/[^ /]+/dir0/file0$
0 | -du -s hdfs:///user/$ME/dir0 | ^0 +0 +hdfs:///user/[^ /]+/dir0$
0 | -du -s hdfs:///user/$ME/d*0 | ^0 +0 +hdfs:///user/[^ /]+/dir0$
0 | -count jfs://$C/ | jfs://it/$
0 | -count rv://$C/user | ^ +[0-9]+ +[0-9]+ +[0-9]+ rv://it/user$
0 | -mkdir hdfs://$C/uri1 | -
0 | -test -d /uri1 | -
1 | -ls hdfs://$C/nope | ^ls: `hdfs://it/nope': No such file or directory$
1 | -ls s3a://bucket/x | ^ls: No FileSystem for scheme "s3a"$
1 | -ls hdfs://othercluster/ | unknown cluster or node 'othercluster'
# globs: *, ?, [a-z], [^a], {a,b}, escapes; matches shown in the pattern's form
0 | -mkdir -p /g/a1/w1 /g/a2/w2 /g/b1/w3 /g/.h | -
0 | -ls -d /g/a* | ^d.* /g/a2$
0 | -ls -d /g/a*/w* | ^d.* /g/a2/w2$
0 | -ls -d /g/{a1,b1} | ^d.* /g/b1$
0 | -ls -C -d /g/[ab]1 | ^/g/a1;/g/b1$
0 | -ls -C -d /g/[a-b]2 | ^/g/a2$
0 | -ls -C -d /g/[^a]1 | ^/g/b1$
0 | -ls -C -d /g/[!b]? | ^/g/\.h;/g/a1;/g/a2$
0 | -ls -C -d /g/?1 | ^/g/a1;/g/b1$
0 | -ls -C -d /g/* | ^/g/\.h;/g/a1;/g/a2;/g/b1$
0 | -ls -C -d /g/{a*,b1}/w? | ^/g/a1/w1;/g/a2/w2;/g/b1/w3$
0 | -ls -C -d hdfs://$C/g/b* | ^hdfs://it/g/b1$
0 | -ls -C -d ../../g/b* | ^\.\./\.\./g/b1$
0 | -ls -C -d d*/f* | ^dir0/file0$
1 | -ls /g/z* | ^ls: `/g/z\*': No such file or directory$
1 | -ls '/g/a\*' | ^ls: `/g/a\*': No such file or directory$
1 | -ls /g/[ab | ^ls: Illegal file pattern: Unclosed character class near index 3$
1 | -ls /g/{a,b | ^ls: Illegal file pattern: Unclosed group near index 4$
0 | -count /g/a* | ^ +2 +0 +0 /g/a1$
0 | -rm -r /g/b* | ^Deleted /g/b1$
# quoting and Hadoop's words
1 | -cat /nope | ^cat: `/nope': No such file or directory$
1 | -rm /nope | ^rm: `/nope': No such file or directory$
0 | -rm -f /nope | -
1 | -mkdir /g | ^mkdir: `/g': File exists$
0 | -mkdir -p /g | -
1 | -mkdir /g/.h | ^mkdir: `/g/\.h': File exists$
0 | -touchz /g/f | -
1 | -mkdir -p /g/f | ^mkdir: `/g/f': Is not a directory$
1 | -rmdir /g | ^rmdir: `/g': Directory is not empty$
1 | -rm /g | ^rm: `/g': Is a directory$
1 | -cat /g | ^cat: `/g': Is a directory$
# usage errors: Hadoop's lines (exit 2 where Hadoop exits 255: a deliberate difference)
2 | -ls -z | ^-ls: Illegal option -- z$
2 | -ls -z | ^Usage: hadoop fs \[generic options\] -ls \[-C\] \[-d\] \[-h\] \[-q\] \[-R\] \[-t\] \[-S\] \[-r\] \[-u\] \[-e\] \[<path> \.\.\.\]$
2 | -chmod 999 /g | ^-chmod: chmod : mode '999' does not match the expected pattern\.$
2 | -chmod u+q /g | ^-chmod: chmod : mode 'u\+q' does not match the expected pattern\.$
2 | -chown a:b:c /g | ^-chown: 'a:b:c' does not match expected pattern for \[owner\]\[:group\]\.$
2 | -chgrp a:b /g | ^-chgrp: 'a:b' does not match expected pattern for group$
2 | ls /g | ^ls: Unknown command;Did you mean -ls\?  This command begins with a dash\.$
2 | -frob | ^-frob: Unknown command$
2 | -test /g | ^-test: No test flag given$
2 | -test -d -e /g | ^-test: Only one test flag is allowed$
2 | -cat | ^-cat: Not enough arguments: expected 1 but got 0$
2 | -mv /g | ^-mv: Not enough arguments: expected 2 but got 1$
# -du -s -h -v -x: SIZE and the space on all replicas (every master holds every content)
0 | -mkdir /du | -
0 | -put $L/f5 $L/f10 /du | -
0 | -du /du | ^10 +30 +/du/f10$
0 | -du /du | ^5 +15 +/du/f5$
0 | -du -s /du | ^15 +45 +/du$
0 | -du -s -x /du | ^15 +45 +/du$
0 | -du -s -v /du | ^SIZE +DISK_SPACE_CONSUMED_WITH_ALL_REPLICAS +FULL_PATH_NAME;15 +45 +/du$
0 | -mkdir /du2 | -
0 | -put $L/k2 /du2 | -
0 | -du -h /du2 | ^2 K +6 K +/du2/k2$
0 | -du -s hdfs://$C/du | ^15 +45 +hdfs://it/du$
0 | -du -s /du /du2 | ^15 +45 +/du;2048 +6144 +/du2$
1 | -du /nope | ^du: `/nope': No such file or directory$
# -count -q -h -v
0 | -count /du | ^ +1 +2 +15 /du$
0 | -count -v /du | ^   DIR_COUNT   FILE_COUNT       CONTENT_SIZE PATHNAME$
0 | -count -h /du2 | ^ +1 +1 +2 K /du2$
0 | -count -q /du | ^ +none +inf +none +inf +1 +2 +15 /du$
0 | -count -q -v /du | ^ +QUOTA +REM_QUOTA +SPACE_QUOTA +REM_SPACE_QUOTA +DIR_COUNT +FILE_COUNT +CONTENT_SIZE PATHNAME$
# -cp -f -p
0 | -cp /du/f5 /du/f5c | -
0 | -cat /du/f5c | ^abcd$
1 | -cp /du/f5 /du/f5c | ^cp: `/du/f5c': File exists$
0 | -cp -f /du/f10 /du/f5c | -
0 | -cat /du/f5c | ^123456789$
0 | -mkdir /cpd | -
0 | -cp /du/f5 /du/f10 /cpd | -
0 | -ls /cpd | ^Found 2 items$
1 | -cp /du/f5 /du/f10 /du/f5c | ^cp: `/du/f5c': Is not a directory$
1 | -cp /nope /cpd | ^cp: `/nope': No such file or directory$
1 | -cp /cpd /cpd/sub | ^cp: `/cpd' to `/cpd/sub': is a subdirectory of itself$
1 | -cp /du/f5 /nodir/x | ^cp: `/nodir/x': No such file or directory: `hdfs://it/nodir/x'$
0 | -cp /cpd /cpd2 | -
0 | -ls -C -R /cpd2 | ^/cpd2/f10;/cpd2/f5$
0 | -chmod 600 /du/f5 | -
0 | -cp -p /du/f5 /du/f5p | -
0 | -stat %a /du/f5p | ^600$
0 | -cp /du/f5 /du/f5q | -
0 | -stat %a /du/f5q | ^644$
0 | -cp 'hdfs://it/du/f1*' /cpd/uri | -
0 | -cat /cpd/uri | ^123456789$
# -copyFromLocal / -put -f -p -l of several sources
0 | -copyFromLocal $L/f5 /cfl | -
0 | -cat /cfl | ^abcd$
1 | -copyFromLocal $L/f5 /cfl | ^copyFromLocal: `/cfl': File exists$
0 | -copyFromLocal -f $L/f10 /cfl | -
0 | -cat /cfl | ^123456789$
1 | -copyFromLocal $L/nope /cfl2 | ^copyFromLocal: `.*/local/nope': No such file or directory$
0 | -copyFromLocal $L/ldir /ld | -
0 | -ls -C -R /ld | ^/ld/a;/ld/b$
1 | -copyFromLocal $L/f5 $L/f10 /cfl | ^copyFromLocal: `/cfl': Is not a directory$
1 | -copyFromLocal $L/f5 $L/f10 /nodir | ^copyFromLocal: `/nodir': No such file or directory$
1 | -copyFromLocal $L/f5 /no/such | ^copyFromLocal: `/no/such': No such file or directory: `hdfs://it/no/such'$
0 | -put -l -d $L/f5 /putl | -
0 | -put -p $L/ldir/a /pp | -
0 | -test -f /pp | -
0 | -put $L/f5 | -
0 | -cat f5 | ^abcd$
0 | -put - /stdin | -
0 | -test -z /stdin | -
2 | -put -t 4 $L/f5 /x | threads\) are not supported
# -moveFromLocal, -moveToLocal
0 | -moveFromLocal $L/m1 /m1 | -
0 | -cat /m1 | ^m1$
1 | -put $L/m1 /m1b | ^put: `.*/local/m1': No such file or directory$
0 | -moveToLocal /m1 $L/m1 | -
1 | -test -e /m1 | -
0 | -put $L/m1 /m1c | -
0 | -cat /m1c | ^m1$
# -tail [-f], -head
0 | -put $L/big /big | -
0 | -tail /big | xTAILEND$
0 | -head /big | ^HEADSTARTx+$
1 | -tail /du | ^tail: `/du': Is a directory$
1 | -tail /nope | ^tail: `/nope': No such file or directory$
2 | -tail | ^-tail: Not enough arguments: expected 1 but got 0$
2 | -tail -s x /big | Illegal sleep interval: x
2 | -head /big /big | ^-head: Too many arguments: expected 1 but got 2$
# -test -d -e -f -s -z -r -w: the answer is the exit status
0 | -test -d /du | -
1 | -test -d /du/f5 | -
0 | -test -f /du/f5 | -
1 | -test -f /du | -
0 | -test -e /du | -
1 | -test -e /nope | -
0 | -test -s /du/f5 | -
1 | -test -s /stdin | -
0 | -test -z /stdin | -
1 | -test -z /du/f10 | -
0 | -test -r /du/f10 | -
0 | -test -w /du/f10 | -
0 | -chmod 444 /du/f10 | -
1 | -test -w /du/f10 | -
0 | -test -e hdfs://$C/du/f* | -
# -find -name -iname -print
0 | -find /du -name f1* | ^/du/f10$
0 | -find /du -iname F5 | ^/du/f5$
0 | -find /du -print | ^/du;/du/f10;/du/f5;/du/f5c;/du/f5p;/du/f5q$
0 | -find /du -name f5? -print | ^/du/f5c;/du/f5p;/du/f5q$
0 | -find dir0 | ^dir0;dir0/file0$
1 | -find /nope -name x | ^find: `/nope': No such file or directory$
2 | -find /du -bogus | ^-find: Unexpected argument: -bogus$
# -get / -copyToLocal (-crc refused), -getmerge
0 | -get /du/f5 $L/g5 | -
0 | -put $L/g5 /g5back | -
0 | -cat /g5back | ^abcd$
1 | -get /du/f5 $L/g5 | ^get: `.*/local/g5': File exists$
0 | -get -f /du/f10 $L/g5 | -
0 | -get -ignoreCrc /du/f10 $L/g10 | -
2 | -get -crc /du/f5 $L/g6 | ^-get: -crc is not supported
2 | -copyToLocal -crc /du/f5 $L/g6 | ^-copyToLocal: -crc is not supported
0 | -copyToLocal /cpd2 $L/cpdl | -
0 | -put $L/cpdl/f10 /f10back | -
0 | -cat /f10back | ^123456789$
1 | -get /nope $L/x | ^get: `/nope': No such file or directory$
0 | -getmerge /cpd2 $L/merged | -
0 | -put $L/merged /merged | -
0 | -cat /merged | ^123456789;abcd$
0 | -getmerge -nl /cpd2 $L/merged2 | -
0 | -put $L/merged2 /merged2 | -
0 | -count /merged2 | ^ +0 +1 +17 /merged2$
# -touchz under a missing parent: Hadoop's Touchz names the fully qualified path too
1 | -touchz /nodir/z | ^touchz: `/nodir/z': No such file or directory: `hdfs://it/nodir/z'$
# -cat of local file: URIs reads the local file system, no cluster involved (Hadoop's getmerge tests read their result so)
0 | -cat file:$L/f5 | ^abcd$
1 | -cat file://$L/nope | ^cat: `file:///.*/nope': No such file or directory$
# -appendToFile, -truncate
0 | -appendToFile $L/f5 /app | -
0 | -appendToFile $L/f5 $L/f10 /app | -
0 | -cat /app | ^abcd;abcd;123456789$
1 | -appendToFile $L/f5 /nodir/app | No such file or directory
1 | -appendToFile $L/f5 /du | ^appendToFile: `/du': Is a directory$
0 | -truncate 2 /app | -
0 | -count /app | ^ +0 +1 +2 /app$
1 | -truncate 10 /app | Cannot truncate to a larger file size\. Current size: 2, truncate size: 10\.
2 | -truncate x /app | Illegal length: x
0 | -truncate 2 /app | -
0 | -appendToFile $L/f5 /app-new | -
0 | -cat /app-new | ^abcd$
# -concat (hdfs dfs): the sources appended to the target in order and removed, in one command;
# HDFS' rules: files in one directory, no source the target, no source twice
0 | -mkdir /cc /cc2 | -
0 | -put $L/f5 /cc/t | -
0 | -put $L/f10 /cc/s1 | -
0 | -put $L/m1 /cc/s2 | -
0 | -put $L/m1 /cc2/o | -
0 | -concat /cc/t /cc/s2 /cc/s1 | -
0 | -cat /cc/t | ^abcd;m1;123456789$
1 | -ls /cc/s1 | ^ls: `/cc/s1': No such file or directory$
0 | -count /cc | ^ +1 +1 +18 /cc$
1 | -concat /cc/t /cc2/o | ^concat: `/cc/t': Source file /cc2/o is not in the same directory with the target$
1 | -concat /cc/t /cc/t | ^concat: `/cc/t': the src file /cc/t is the same with the target file$
1 | -concat /cc/t /cc/nope | ^concat: `/cc/nope': No such file or directory$
1 | -concat /cc /cc2/o | ^concat: `/cc': Is a directory$
2 | -concat /cc/t | ^-concat: Not enough arguments: expected 2 but got 1$
# -setfattr / -getfattr: HDFS' namespaces, encodings (XAttrCodec) and messages
0 | -setfattr -n user.a1 -v 123456 /cc/t | -
0 | -setfattr -n USER.a2 -v 0x313233 /cc/t | -
0 | -setfattr -n user.a3 /cc/t | -
0 | -getfattr -d /cc/t | ^# file: /cc/t;user\.a1="123456";user\.a2="123";user\.a3$
0 | -getfattr -n user.a2 -e hex /cc/t | ^# file: /cc/t;user\.a2=0x313233$
0 | -getfattr -n user.a1 -e base64 /cc/t | ^user\.a1=0sMTIzNDU2$
0 | -setfattr -n user.a1 -v 0sYWJj /cc/t | -
0 | -getfattr -n user.a1 /cc/t | ^user\.a1="abc"$
0 | -setfattr -x user.a1 /cc/t | -
1 | -getfattr -n user.a1 /cc/t | ^getfattr: At least one of the attributes provided was not found\.$
1 | -setfattr -x user.a1 /cc/t | ^setfattr: No matching attributes found for remove operation$
1 | -setfattr -n bad -v 1 /cc/t | ^setfattr: An XAttr name must be prefixed with user/trusted/security/system/raw, followed by a '\.'$
1 | -setfattr -n user. -v 1 /cc/t | ^setfattr: XAttr name cannot be empty\.$
1 | -setfattr -n system.x -v 1 /cc/t | ^setfattr: User doesn't have permission for xattr: system\.x$
0 | -setfattr -n trusted.t -v 1 /cc | -
0 | -getfattr -R -d /cc | ^# file: /cc;trusted\.t="1";# file: /cc/t;user\.a2="123";user\.a3$
0 | -mv /cc/t /cc/t2 | -
0 | -getfattr -n user.a3 /cc/t2 | ^# file: /cc/t2;user\.a3$
1 | -getfattr -d /nope | ^getfattr: `/nope': No such file or directory$
2 | -getfattr /cc | ^-getfattr: Must specify '-n name' or '-d' option\.$
2 | -getfattr -d -e bin /cc | ^-getfattr: Invalid/unsupported encoding option specified: bin$
2 | -setfattr /cc | ^-setfattr: Must specify '-n name' or '-x name' option\.$
2 | -setfattr -n user.a -x user.a /cc | ^-setfattr: Can not specify both '-n name' and '-x name' option\.$
# -checksum (documented algorithm: CRC-32C of the whole content), -text, -df, -expunge
0 | -checksum /du/f5 | ^/du/f5	COMPOSITE-CRC32C	fb8579d1$
1 | -checksum /du | ^checksum: `/du': Is a directory$
0 | -text /du/f5 | ^abcd$
0 | -df | ^Filesystem +Size +Used +Available +Use%$
0 | -df -h / | ^hdfs://it +- +[0-9.]+( [KM])? +- +-$
0 | -expunge | -
0 | -usage ls | ^Usage: hadoop fs \[generic options\] -ls \[-C\] \[-d\] \[-h\] \[-q\] \[-R\] \[-t\] \[-S\] \[-r\] \[-u\] \[-e\] \[<path> \.\.\.\]$
0 | -help du | ^-du \[-s\] \[-h\] \[-v\] \[-x\] <path> \.\.\.$
# -ls -C -d -h -R -t -S -r -u
0 | -mkdir /ls | -
0 | -put $L/f5 /ls/a | -
0 | -put $L/f10 /ls/b | -
0 | -put $L/k2 /ls/c | -
0 | -touch -m -t 20200101:000000 /ls/a | -
0 | -touch -m -t 20200102:000000 /ls/b | -
0 | -touch -m -t 20200103:000000 /ls/c | -
0 | -touch -a -t 20210101:000000 /ls/b | -
0 | -ls -C /ls | ^/ls/a;/ls/b;/ls/c$
0 | -ls -C -t /ls | ^/ls/c;/ls/b;/ls/a$
0 | -ls -C -S /ls | ^/ls/c;/ls/b;/ls/a$
0 | -ls -C -r /ls | ^/ls/c;/ls/b;/ls/a$
0 | -ls -C -t -r /ls | ^/ls/a;/ls/b;/ls/c$
0 | -ls -C -t -u /ls | ;/ls/b$
0 | -ls -u /ls | 2021-01-01 00:00 /ls/b$
0 | -ls /ls | 2020-01-02 00:00 /ls/b$
0 | -ls -h /ls | ^-rw-r--r-- +3 .* 2 K 2020-01-03 00:00 /ls/c$
0 | -ls -d /ls | ^drwxr-xr-x .* /ls$
0 | -ls -R /ld | ^-rw-r--r-- .* /ld/b$
2 | -ls -e /ls | -e is not supported
# -rm -f -r -skipTrash, -mkdir of several paths, -mv
0 | -rm /du/f5c | ^Deleted /du/f5c$
0 | -rm -skipTrash /du/f5p | ^Deleted /du/f5p$
0 | -rm -r /cpd2 | ^Deleted /cpd2$
0 | -rm /cpd/f* | ^Deleted /cpd/f10;Deleted /cpd/f5$
0 | -rm -r -f /nope /cpd | ^Deleted /cpd$
0 | -rm -f /nope* | -
1 | -test -e /nope* | -
0 | -mkdir /mk1 /mk2 /mk3 | -
0 | -ls -C -d /mk* | ^/mk1;/mk2;/mk3$
1 | -mkdir /mk1 /mk4 | ^mkdir: `/mk1': File exists$
0 | -test -d /mk4 | -
0 | -mv /m1c /m2 | -
1 | -test -e /m1c | -
1 | -mv /m2 /nodir/x | ^mv: `/nodir/x': No such file or directory: `hdfs://it/nodir/x'$
1 | -mv /du/f5 /du/f10 /m2 | ^mv: `/m2': Is not a directory$
0 | -mv /mk[1-3] /mk4 | -
0 | -ls -C /mk4 | ^/mk4/mk1;/mk4/mk2;/mk4/mk3$
1 | -mv /mk4 /mk4 | ^mv: `/mk4' to `/mk4/mk4': is a subdirectory of itself$
1 | -cp /mk4 /mk4 | ^cp: `/mk4' to `/mk4/mk4': is a subdirectory of itself$
0 | -stat '%n %b %F' /du/f5 | ^f5 5 regular file$
# error paths of every command (each names the problem)
1 | -cp /du/f5 /du/f10 /nodir2 | ^cp: `/nodir2': No such file or directory$
1 | -get /du/f5 /du/f10 $L/f5 | ^get: `.*/local/f5': Is not a directory$
1 | -getmerge /nope $L/m | ^getmerge: `/nope': No such file or directory$
1 | -appendToFile $L/nope /app | ^appendToFile: `.*/local/nope': No such file or directory$
1 | -truncate 1 /nope | ^truncate: `/nope': No such file or directory$
1 | -truncate 1 /du | ^truncate: `/du': Is a directory$
1 | -checksum /nope | ^checksum: `/nope': No such file or directory$
# -tail takes its one argument literally (Hadoop's Tail never globs it)
1 | -tail /du/f1* | ^tail: `/du/f1\*': No such file or directory$
1 | -tail -f /du/f* | ^tail: `/du/f\*': No such file or directory$
1 | -head /du | ^head: `/du': Is a directory$
2 | -find /du -name [x | ^-find: Illegal file pattern: Unclosed character class near index 2$
2 | -count -t /du | ^-count: -t, -e and -s are not supported
1 | -df /nope | ^df: `/nope': No such file or directory$
1 | -mkdir hdfs://nosuch/x | ^mkdir: `hdfs://nosuch/x': unknown cluster or node 'nosuch'
1 | -chmod -R 700 /nope* | ^chmod: `/nope\*': No such file or directory$
1 | -chown bob /nope | ^chown: `/nope': No such file or directory$
0 | -chmod -R 700 /ld* | -
0 | -stat %a /ld/a | ^700$
1 | -stat /nope | ^stat: `/nope': No such file or directory$
1 | -text /nope | ^text: `/nope': No such file or directory$
0 | -touch rel-touched | -
0 | -test -z rel-touched | -
2 | -expunge -bogus | ^-expunge: Illegal option -- bogus$
1 | -usage frob | ^usage: No such command: frob$
2 | -rm | ^-rm: Not enough arguments: expected 1 but got 0$
1 | -moveToLocal /nope $L/x | ^moveToLocal: `/nope': No such file or directory$
1 | -copyFromLocal $L/f5 hdfs://nosuch/x | unknown cluster or node 'nosuch'
# Hadoop's generic options before the command: -fs URI (the default file system: a node's
# HOST:PORT stands for --nodes; the cluster id needs -c), -D key=value (fs.defaultFS is -fs;
# other keys, such as dfs.replication, are accepted and change nothing here)
0 | -fs hdfs://$C -ls -d /du | ^d.* /du$
0 | -D fs.defaultFS=hdfs://$C -ls -d /du | ^d.* /du$
0 | -D dfs.replication=1 -count /du | /du$
0 | -Ddfs.blocksize=1m -test -d /du | -
2 | -fs file:/// -ls / | ^raftvisor fs: -fs file:///: No FileSystem for scheme "file"
2 | -fs /p -ls / | ^raftvisor fs: -fs /p: expected hdfs://HOST:PORT or hdfs://CLUSTER-ID
# local files as file: URIs (file:/p, file:///p, file://localhost/p), as Hadoop's CLI tests
# name them; -cp copies a local source in, as Hadoop's cp copies between file systems
0 | -put file:$L/f5 /furi5 | -
0 | -cat /furi5 | ^abcd$
0 | -copyFromLocal file://$L/f10 /furi10 | -
0 | -cp file://localhost$L/m1 /furi5 /du | -
0 | -cat /du/m1 | ^m1$
1 | -cp file:$L/f10 /furi10 | ^cp: `/furi10': File exists$
0 | -cp -f file:$L/f5 /furi10 | -
0 | -cat /furi10 | ^abcd$
0 | -get /furi10 file:$L/got10 | -
0 | -appendToFile file:$L/f5 /furi10 | -
0 | -cat /furi10 | ^abcd;abcd$
TABLE
)

pass=0 total=0 failed=()
while IFS= read -r line; do
  case "$line" in '#'* | '') continue ;; esac
  want_rc=${line%% | *}
  rest=${line#* | }
  args=${rest% | *}
  pattern=${rest##* | }
  total=$((total + 1))
  eval "set -- $args"
  rc=0
  out=$("$RV" fs -c "$T/n1.yaml" "$@" 2>&1 </dev/null) || rc=$?
  joined=$(printf '%s' "$out" | tr '\n' ';')
  ok=true
  [ "$rc" = "$want_rc" ] || ok=false
  if [ "$pattern" = "-" ]; then
    [ -z "$out" ] || ok=false
  elif ! { matches "$pattern" "$out" || matches "$pattern" "$joined"; }; then
    ok=false
  fi
  if $ok; then
    pass=$((pass + 1))
  else
    failed+=("exit $rc (want $want_rc): fs $args: ${joined:0:300} (want /$pattern/)")
  fi
done <<<"$cases"
log "conformance: $pass of $total cases pass"
for f in "${failed[@]}"; do log "FAILED: $f"; done
[ "$pass" = "$total" ] || fail "$((total - pass)) of $total conformance cases failed"
log "ok: all $total cases as Hadoop's FsShell (deliberate differences as documented)"
