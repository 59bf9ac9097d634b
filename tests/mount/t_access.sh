# t_access.sh - the daemon enforces its own roles (issue 10): with
# -o allow_other and without -o default_permissions, another user may read
# what the modes let everyone read and change nothing.

# nobody 'COMMAND': runs COMMAND in bash as uid and gid 65534, with no
# other groups; its output in $OUT, its exit code in $RC.
nobody() {
	OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		bash -c "$1" 2>&1)
	RC=$?
}

# as_admin 'COMMAND': the same as uid 1000 in the admins' group 1001.
as_admin() {
	OUT=$(setpriv --reuid=1000 --regid=1000 --groups=1001 \
		bash -c "$1" 2>&1)
	RC=$?
}

# What another user tried, in the issue, each refused and changing
# nothing.
test_another_user_changes_nothing() {
	chmod 755 "$WORK"
	remount -o allow_other
	register
	mkdir -p projects/shop/integrations/orders environments/prod/runtimes/chat
	ln -s ../../../../../../environments/prod/runtimes/chat \
		projects/shop/integrations/orders/runtimes/prod/chat
	touch environments/prod/secrets/s1
	echo stop >environments/prod/runtimes/orders-eu-1/ctl
	local before rt=environments/prod/runtimes/orders-eu-1
	before=$(find environments projects | sort)
	nobody 'touch environments/prod/secrets/evil'
	expect "touch: cannot touch 'environments/prod/secrets/evil': Permission denied"
	nobody 'echo 1 > environments/prod/critical'
	expect "bash: line 1: environments/prod/critical: Permission denied"
	nobody 'mkdir environments/evil'
	expect "mkdir: cannot create directory ‘environments/evil’: Permission denied"
	nobody "rm -f $rt/secret"
	expect "rm: cannot remove '$rt/secret': Permission denied"
	nobody "rmdir environments/prod/runtimes/chat"
	expect "rmdir: failed to remove 'environments/prod/runtimes/chat': Permission denied"
	nobody 'rm -f projects/shop/integrations/orders/runtimes/prod/chat'
	expect "rm: cannot remove 'projects/shop/integrations/orders/runtimes/prod/chat': Permission denied"
	nobody 'mv environments/prod/secrets/s1 environments/prod/stolen~'
	expect "mv: cannot move 'environments/prod/secrets/s1' to 'environments/prod/stolen~': Permission denied"
	nobody 'cat environments/prod/stolen~ environments/prod/secrets/s1'
	expect "cat: environments/prod/stolen~: No such file or directory
cat: environments/prod/secrets/s1: Permission denied"
	nobody "cat $rt/service_account"
	expect "cat: $rt/service_account: Permission denied"
	nobody 'rm -rf environments/prod'
	expect_rc 1
	nobody 'mkdir snapshots/mine'
	expect "mkdir: cannot create directory ‘snapshots/mine’: Permission denied"
	nobody 'chmod 666 environments/prod/critical'
	expect "chmod: changing permissions of 'environments/prod/critical': Operation not permitted"
	nobody 'touch -c -d 2020-01-01 environments/prod/critical'
	expect "touch: setting times of 'environments/prod/critical': Operation not permitted"
	nobody 'exec 3<>heartbeat'
	expect "bash: line 1: heartbeat: Permission denied"
	nobody 'test -r environments/prod/critical && ! test -w environments/prod/critical && echo ro'
	expect "ro"
	# what everyone may read
	nobody "cat environments/prod/critical $rt/status"
	expect "0
STOPPING"
	nobody 'ls environments/prod/secrets'
	expect "s1"
	run find environments projects
	[ "$(printf '%s\n' "$OUT" | sort)" = "$before" ] ||
		fail "the tree changed: $OUT"
	run cat .last_error
	expect ""
}

# The admins' group may do what the owner does, sed -i included: its
# temporary file is the admin's, in the admins' group, and preserving its
# permissions works.
test_admin_group_edits_without_default_permissions() {
	chmod 755 "$WORK"
	remount -o allow_other,admin_gid=1001
	mkdir -p environments/prod/runtimes/chat
	spec 1 >environments/prod/runtimes/chat/spec
	as_admin 'echo 1 > environments/prod/critical && cat environments/prod/critical'
	expect 1
	as_admin 'sed -i s/chat:1/chat:2/ environments/prod/runtimes/chat/spec'
	expect ""
	expect_rc 0
	run ls environments/prod/runtimes/chat/versions
	expect "1
2"
	as_admin 'touch environments/prod/runtimes/chat/x.tmp'
	run stat -c '%u %g %a' environments/prod/runtimes/chat/x.tmp
	expect "1000 1001 644"
	nobody 'rm environments/prod/runtimes/chat/x.tmp'
	expect "rm: cannot remove 'environments/prod/runtimes/chat/x.tmp': Permission denied"
	as_admin 'rm environments/prod/runtimes/chat/x.tmp'
	expect_rc 0
}

# The same, through the kernel's checks: sed -i by an admin with
# default_permissions preserves the file's permissions without a word.
test_admin_group_edits_with_default_permissions() {
	chmod 755 "$WORK"
	remount -o allow_other,default_permissions,admin_gid=1001
	mkdir -p environments/prod/runtimes/chat
	spec 1 >environments/prod/runtimes/chat/spec
	as_admin 'sed -i s/chat:1/chat:2/ environments/prod/runtimes/chat/spec'
	expect ""
	expect_rc 0
	as_admin 'cd environments/prod/runtimes/chat && vim -es -c "%s/chat:2/chat:3/" -c wq spec'
	expect_rc 0
	run ls environments/prod/runtimes/chat/versions
	expect "1
2
3"
}

# A copy of a value file that vim leaves as its backup keeps the file's
# mode; credentials are not copied at all.
test_backup_copies_keep_the_mode() {
	mkdir -p environments/prod
	touch environments/prod/secrets/s1
	run mv environments/prod/secrets/s1 environments/prod/secrets/s1~
	expect "mv: cannot move 'environments/prod/secrets/s1' to 'environments/prod/secrets/s1~': Operation not permitted"
	mv environments/prod/critical environments/prod/critical~
	run stat -c %a environments/prod/critical~
	expect 644
}
