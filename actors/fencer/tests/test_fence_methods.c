/* Tests of fence_methods: the forms Hadoop's NodeFencer accepts (and what they mean) and the ones
 * it refuses, each with its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fence_methods.h"

static fence_method_t s_one(const char *text) {
  fence_method_t m;
  char why[512] = "";
  int rc = fence_method_parse(text, &m, why, sizeof why);
  if (rc) print_error("%s: %s\n", text, why);
  assert_int_equal(rc, 0);
  return m;
}

static void s_refused(const char *text, const char *want) {
  fence_method_t m;
  char why[512] = "";
  assert_int_equal(fence_method_parse(text, &m, why, sizeof why), -1);
  if (strcmp(why, want) != 0) print_error("%s:\n got  %s\n want %s\n", text, why, want);
  assert_string_equal(why, want);
}

static void test_shell(void **state) {
  fence_method_t m = s_one("shell(/bin/true)");
  assert_int_equal(m.kind, FENCE_METHOD_SHELL);
  assert_string_equal(m.command, "/bin/true");
  assert_string_equal(fence_method_name(&m), "shell");
  /* the argument runs from the first '(' to the last ')': nested parentheses stay */
  m = s_one("shell(test $(id -u) = 0 && (fence.sh --host $target_host))");
  assert_string_equal(m.command, "test $(id -u) = 0 && (fence.sh --host $target_host)");
  /* Hadoop's class name works as the short name */
  m = s_one("org.apache.hadoop.ha.ShellCommandFencer(echo hi)");
  assert_int_equal(m.kind, FENCE_METHOD_SHELL);
  assert_string_equal(m.command, "echo hi");
  /* the argument is kept as written, inner blanks included */
  m = s_one("shell( exit 1 )");
  assert_string_equal(m.command, " exit 1 ");
}

static void test_sshfence(void **state) {
  fence_method_t m = s_one("sshfence");
  assert_int_equal(m.kind, FENCE_METHOD_SSH);
  assert_string_equal(m.user, "");
  assert_int_equal(m.port, 22);
  m = s_one("sshfence()");
  assert_string_equal(m.user, "");
  assert_int_equal(m.port, 22);
  m = s_one("sshfence(hdfs)");
  assert_string_equal(m.user, "hdfs");
  assert_int_equal(m.port, 22);
  m = s_one("sshfence(hdfs:2222)");
  assert_string_equal(m.user, "hdfs");
  assert_int_equal(m.port, 2222);
  m = s_one("sshfence(:2222)");
  assert_string_equal(m.user, "");
  assert_int_equal(m.port, 2222);
  m = s_one("org.apache.hadoop.ha.SshFenceByTcpPort(root:22)");
  assert_int_equal(m.kind, FENCE_METHOD_SSH);
  assert_string_equal(m.user, "root");
  assert_string_equal(fence_method_name(&m), "sshfence");
}

static void test_refused(void **state) {
  s_refused("shell(x", "Unable to parse line: 'shell(x': expected NAME or NAME(ARGUMENT)");
  s_refused("shell (x)", "Unable to parse line: 'shell (x)': expected NAME or NAME(ARGUMENT)");
  s_refused("(x)", "Unable to parse line: '(x)': expected NAME or NAME(ARGUMENT)");
  s_refused("shell", "No argument passed to 'shell' fencing method: expected shell(command "
                     "[args]), got 'shell'");
  s_refused("shell()", "No argument passed to 'shell' fencing method: expected shell(command "
                       "[args]), got 'shell()'");
  s_refused("shell(  )", "No argument passed to 'shell' fencing method: expected shell(command "
                         "[args]), got 'shell(  )'");
  s_refused("sshfence(u:)", "Unable to parse user and SSH port: 'u:': expected sshfence, "
                            "sshfence(user), sshfence(user:port) or sshfence(:port), with the "
                            "port a number");
  s_refused("sshfence(u:abc)", "Unable to parse user and SSH port: 'u:abc': expected sshfence, "
                               "sshfence(user), sshfence(user:port) or sshfence(:port), with "
                               "the port a number");
  s_refused("sshfence(u:0)", "Port number '0' invalid: expected 1..65535");
  s_refused("sshfence(u:65536)", "Port number '65536' invalid: expected 1..65535");
  s_refused("sshfence(u:1234567)", "Port number '1234567' invalid: expected 1..65535");
  s_refused("sshfence(bad user)", "Unable to parse user and SSH port: 'bad user': expected "
                                  "sshfence, sshfence(user), sshfence(user:port) or "
                                  "sshfence(:port), with a user name of letters, digits, '.', "
                                  "'_' and '-'");
  s_refused("sshfence(-oProxyCommand=x)",
            "Unable to parse user and SSH port: '-oProxyCommand=x': expected sshfence, "
            "sshfence(user), sshfence(user:port) or sshfence(:port), with a user name of "
            "letters, digits, '.', '_' and '-'");
  s_refused("shel(x)", "unknown fencing method 'shel': expected shell(command [args]) or "
                       "sshfence([[user][:port]]), got 'shel(x)'");
  s_refused("org.example.MyFencer(x)", "unknown fencing method 'org.example.MyFencer': expected "
                                       "shell(command [args]) or sshfence([[user][:port]]), got "
                                       "'org.example.MyFencer(x)'");
  s_refused("powershell(x)", "fencing method 'powershell' is not supported: expected "
                             "shell(command [args]) or sshfence([[user][:port]]), got "
                             "'powershell(x)'");
}

static void test_spec(void **state) {
  fence_method_t ms[FENCE_METHODS_MAX];
  int n = -1;
  char why[512];
  const char *spec = "# tried in order\n"
                     "\n"
                     "  sshfence(hdfs:22)   # first\n"
                     "\t\n"
                     "shell(echo $# (args) # not a comment)  # a comment\n";
  assert_int_equal(fence_methods_parse(spec, ms, FENCE_METHODS_MAX, &n, why, sizeof why), 0);
  assert_int_equal(n, 2);
  assert_int_equal(ms[0].kind, FENCE_METHOD_SSH);
  assert_string_equal(ms[0].user, "hdfs");
  assert_int_equal(ms[1].kind, FENCE_METHOD_SHELL);
  assert_string_equal(ms[1].command, "echo $# (args) # not a comment");
  /* nothing but comments: no methods */
  assert_int_equal(fence_methods_parse("# none\n\n", ms, FENCE_METHODS_MAX, &n, why, sizeof why),
                   0);
  assert_int_equal(n, 0);
  /* the error names the line */
  assert_int_equal(
      fence_methods_parse("shell(true)\n# x\nshel(x)\n", ms, FENCE_METHODS_MAX, &n, why, sizeof why),
      -1);
  assert_string_equal(why, "line 3: unknown fencing method 'shel': expected shell(command [args]) "
                           "or sshfence([[user][:port]]), got 'shel(x)'");
  /* too many */
  assert_int_equal(fence_methods_parse("sshfence\nsshfence\nsshfence\n", ms, 2, &n, why, sizeof why),
                   -1);
  assert_string_equal(why, "line 3: more than 2 fencing methods");
}

static void test_line(void **state) {
  size_t start;
  const char *l = "  shell(a # b) # c ";
  size_t n = fence_methods_line(l, strlen(l), &start);
  assert_int_equal(start, 2);
  assert_int_equal(n, strlen("shell(a # b)"));
  assert_int_equal(fence_methods_line("   # only", 9, &start), 0);
  assert_int_equal(fence_methods_line("", 0, &start), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shell),   cmocka_unit_test(test_sshfence), cmocka_unit_test(test_refused),
      cmocka_unit_test(test_spec),    cmocka_unit_test(test_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
