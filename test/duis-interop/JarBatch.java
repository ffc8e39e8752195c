// smetsim (Apache-2.0): runs the DCC's DUIS signing tool (dccboxed-signing-tool, the tool.jar that
// @smartdcc/duis-sign-wrap ships) on many messages in one JVM, through the tool's own command-line
// entry points (Sign.main_aux, Validate.main_aux), so a test does not start a JVM per message.
// Protocol, one line each way: "sign|sign-preserve|validate <base64 XML>" ->
// "<exit code> <base64 stdout> <base64 stderr>". Run: java -cp tool.jar JarBatch.java
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

public class JarBatch {
  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    PrintStream out = System.out;
    PrintStream err = System.err;
    Path file = Files.createTempFile("smetsim-duis-", ".xml");
    file.toFile().deleteOnExit();
    String line;
    while ((line = in.readLine()) != null) {
      String[] parts = line.split(" ", 2);
      if (parts.length != 2) break;
      Files.write(file, Base64.getDecoder().decode(parts[1]));
      ByteArrayOutputStream o = new ByteArrayOutputStream();
      ByteArrayOutputStream e = new ByteArrayOutputStream();
      System.setOut(new PrintStream(o, true, "UTF-8"));
      System.setErr(new PrintStream(e, true, "UTF-8"));
      int code;
      try {
        if (parts[0].equals("validate")) {
          code = uk.co.smartdcc.boxed.xmldsig.Validate.main_aux(new String[] {file.toString()}).value();
        } else if (parts[0].equals("sign-preserve")) {
          code = uk.co.smartdcc.boxed.xmldsig.Sign.main_aux(new String[] {file.toString(), "--preserveCounter"}).value();
        } else {
          code = uk.co.smartdcc.boxed.xmldsig.Sign.main_aux(new String[] {file.toString()}).value();
        }
      } catch (Throwable t) {
        t.printStackTrace();
        code = 2;
      }
      System.out.flush();
      System.err.flush();
      System.setOut(out);
      System.setErr(err);
      Base64.Encoder b64 = Base64.getEncoder();
      out.println(code + " " + b64.encodeToString(o.toByteArray()) + " " + b64.encodeToString(e.toByteArray()));
      out.flush();
    }
  }
}
