import KSDiagnostics
import KSShell
import ShellRuntime
import Testing

/// Runs a script named `t.ks` in a fresh session.
private func run(_ text: String) -> ScriptRun { runScript(text, name: "t.ks") }

@Suite("Functions, closures and scopes")
struct FunctionTests {
  @Test func argumentsBindAsInPython() {
    let r = run("""
      def f(a, b=2, *args, c=3, **kw):
          return [a, b, list(args), c, sorted(kw.keys())]
      print(f(1))
      print(f(1, 5, 6, 7, c=0, z=1, y=2))
      print(f(b=4, a=3))
      def p(x, /, y): return x - y
      print(p(5, y=1))
      args = [1, 2]
      opts = {"c": 9}
      print(f(*args, **opts))
      """)
    #expect(r.errors == "")
    #expect(r.output == "[1, 2, [], 3, []]\n[1, 5, [6, 7], 0, ['y', 'z']]\n[3, 4, [], 3, []]\n4\n[1, 2, [], 9, []]\n")
  }

  @Test(arguments: [
    ("def f(a, b): pass\nf(1)", "f() missing 1 required positional argument: 'b'"),
    ("def f(a, *, k): pass\nf(1)", "f() missing 1 required keyword-only argument: 'k'"),
    ("def f(a): pass\nf(1, 2)", "f() takes 1 positional argument but 2 were given"),
    ("def f(a, b=1): pass\nf(1, 2, 3)", "f() takes from 1 to 2 positional arguments but 3 were given"),
    ("def f(a): pass\nf(1, a=2)", "f() got multiple values for argument 'a'"),
    ("def f(a): pass\nf(b=2)", "f() got an unexpected keyword argument 'b'"),
    ("def f(a, /): pass\nf(a=2)", "f() got some positional-only arguments passed as keyword arguments: 'a'"),
  ])
  func badCallsGivePythonsMessages(_ script: String, _ message: String) {
    let r = run(script)
    #expect(r.status == 1)
    #expect(r.errors.contains("error: " + message + "\n"), "\(r.errors)")
  }

  @Test func closuresGlobalsAndNonlocals() {
    let r = run("""
      def counter():
          n = 0
          def inc(step=1):
              nonlocal n
              n += step
              return n
          return inc
      c = counter()
      c(); c(5);
      total = 0
      def add(x):
          global total
          total += x
      add(2); add(3)
      adders = [lambda x, k=k: x + k for k in range(3)]
      late = [lambda x: x + k for k in range(3)]
      print(c(), total, [f(10) for f in adders], [f(10) for f in late])
      def outer():
          y = 1
          def show(): return y
          y = 2
          return show()
      print(outer())
      """)
    #expect(r.errors == "")
    #expect(r.output == "7 5 [10, 11, 12] [12, 12, 12]\n2\n")
  }

  @Test func localsAreLocal() {
    let r = run("""
      x = 1
      def f():
          x = 2
          return x
      print(f(), x)
      def g():
          print(x)
          x = 3
      g()
      """)
    #expect(r.output == "2 1\n")
    #expect(r.errors.contains("cannot access local variable 'x' where it is not associated with a value"))
  }

  @Test func recursionAndItsLimit() {
    let ok = run("def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(15))\n")
    #expect(ok.output == "610\n")
    let deep = run("def down(n):\n    return 0 if n == 0 else 1 + down(n - 1)\nprint(down(900))\n")
    #expect(deep.output == "900\n")
    let r = run("def r(n):\n    return r(n + 1)\nx = 5\nr(0)\n")
    #expect(r.status == 1)
    #expect(r.errors.contains("error: maximum recursion depth exceeded (1000 nested calls)"))
    #expect(r.errors.contains("note: in r(), called at t.ks:2:12 [998 more times]"))
  }

  @Test func errorsInsideAFunctionPointIntoItAndNameTheCall() {
    let r = run("def inner(x):\n    return x[10]\n\ndef outer(y):\n    return inner(y) + 1\n\nouter([1, 2])\n")
    #expect(
      r.errors == """
        t.ks:2:12: error: list index out of range
          2 |     return x[10]
            |            ^~~~~
          note: in inner(), called at t.ks:5:12
          note: in outer(), called at t.ks:7:1

        """)
  }

  @Test func aFailedCallLeavesTheSessionAsItWas() {
    var output = ""
    let session = Session(output: { output += $0 }, errors: { _ in }, status: { _ in })
    session.submit("total = 1")
    session.submit("def bump():\n    global total\n    total += 10\n    raise ValueError('stop')\n")
    #expect(session.submit("bump()") == .failed)
    session.submit("print(total)")
    #expect(output == "1\n")
  }

  @Test func docstringsAndAttributes() {
    let r = run("def f(a, b=2):\n    \"\"\"Adds.\"\"\"\n    return a + b\nprint(f.__doc__, f.__name__, (lambda: 0).__name__)\nf\n")
    #expect(r.output == "Adds. f <lambda>\n<function f>\n")
  }

  @Test func expressionsInsideFunctionsDoNotEcho() {
    let r = run("def f():\n    1 + 1\n    'text'\n    return 3\nf()\n")
    #expect(r.output == "3\n")
  }
}

@Suite("Exceptions")
struct ExceptionTests {
  @Test func tryExceptElseFinally() {
    let r = run("""
      def attempt(k):
          out = []
          try:
              out.append([1, 2][k])
          except IndexError as e:
              out.append("IndexError: " + str(e))
          else:
              out.append("else")
          finally:
              out.append("finally")
          return out
      print(attempt(0))
      print(attempt(5))
      """)
    #expect(r.errors == "")
    #expect(r.output == "[1, 'else', 'finally']\n['IndexError: list index out of range', 'finally']\n")
  }

  @Test(arguments: [
    ("1 / 0", "ZeroDivisionError"), ("[1][3]", "IndexError"), ("{'a': 1}['b']", "KeyError"),
    ("undefined_name", "NameError"), ("(1).foo", "AttributeError"), ("1 + 'a'", "TypeError"),
    ("int('x')", "ValueError"), ("np.zeros((2, 2)) @ np.zeros((3, 3))", "ValueError"),
    ("raise RuntimeError('x')", "RuntimeError"), ("assert False", "AssertionError"),
  ])
  func ksErrorsAreCaughtByTheirPythonClass(_ statement: String, _ type: String) {
    let r = run("import numpy as np\ntry:\n    \(statement)\nexcept \(type) as e:\n    print('caught', type(e).__name__ if False else '\(type)')\n")
    #expect(r.errors == "", "\(statement): \(r.errors)")
    #expect(r.output == "caught \(type)\n")
  }

  @Test func hierarchyTuplesAndReraise() {
    let r = run("""
      for stmt in range(3):
          try:
              if stmt == 0:
                  x = [][0]
              elif stmt == 1:
                  x = 1 / 0
              else:
                  raise KeyError("k")
          except LookupError as e:
              print("lookup", repr(e))
          except (ArithmeticError, ValueError):
              print("arith")
      try:
          try:
              raise ValueError("inner")
          except ValueError:
              raise
      except Exception as e:
          print(e.args, isinstance(e, ValueError), isinstance(e, KeyError))
      """)
    #expect(r.errors == "")
    #expect(r.output == "lookup IndexError('list index out of range')\narith\nlookup KeyError('k')\n('inner',) True False\n")
  }

  @Test func uncaughtExceptionsNameTheirClass() {
    let r = run("raise ValueError('bad value')\n")
    #expect(r.status == 1)
    #expect(r.errors.hasPrefix("t.ks:1:1: error: ValueError: bad value\n"))
    let a = run("x = -1\nassert x > 0, f'x must be positive, got {x}'\n")
    #expect(a.errors.hasPrefix("t.ks:2:1: error: AssertionError: x must be positive, got -1\n"))
  }

  @Test func finallyRunsOnReturnAndBreak() {
    let r = run("""
      def f():
          try:
              return "body"
          finally:
              print("cleanup")
      print(f())
      for i in range(3):
          try:
              break
          finally:
              print("after break", i)
      """)
    #expect(r.output == "cleanup\nbody\nafter break 0\n")
  }

  @Test func deleteAndContainerMethods() {
    let r = run("""
      xs = [3, 1, 2]
      xs.append(5); xs.sort(); xs.insert(0, 9)
      del xs[1]
      d = {"a": 1, "b": 2}
      del d["a"]
      d.update(c=3)
      y = 1
      del y
      print(xs, xs.pop(), d, d.get("z", 0), sorted([3, 1, 2], key=lambda v: -v))
      try:
          print(y)
      except NameError:
          print("y is gone")
      """)
    #expect(r.errors == "")
    #expect(r.output == "[9, 2, 3, 5] 5 {'b': 2, 'c': 3} 0 [3, 2, 1]\ny is gone\n")
  }
}

@Suite("Types and identity")
struct TypeTests {
  @Test func typeIsAndDTypeComparisons() {
    let r = run("""
      x = (1, 2)
      print(type(x) is tuple, type(x) is list, type(3).__name__, type(np.zeros(2)) == np.ndarray)
      print(type(ValueError("a")).__name__, type(None), np.dtype("f8") == "float", np.zeros(2).dtype == float)
      r = np.arange(10)
      print(r[np.int64(2):np.int64(5)], [0, 1, 2, 3][np.int64(1):])
      """)
    #expect(r.errors == "")
    #expect(r.output == "True False int True\nValueError <class 'NoneType'> True True\n[2 3 4] [1, 2, 3]\n")
  }
}
