// The typed GET of one report against the in-process sandbox, keep-alive, decoded into the
// language's model: Hues.Sdk (sync Get) against Mono's HttpClient + DataContractJsonSerializer
// doing the same, in alternating rounds (medians); then 1,000 concurrent GetAsync from one
// thread (wall time, peak RSS, thread count). No assertions: it prints figures.
//   bash bindings/csharp/bench.sh <build dir> [requests per round] [rounds]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;
using System.Text;
using System.Threading.Tasks;
using Hues.Sdk;
using Hues.Sdk.Testing;

[DataContract]
sealed class LocationDto {
  [DataMember(Name = "lat")] public double Lat;
  [DataMember(Name = "lon")] public double Lon;
  [DataMember(Name = "address")] public string Address;
  [DataMember(Name = "ward")] public string Ward;
}

[DataContract]
sealed class ReportDto {
  [DataMember(Name = "id")] public string Id;
  [DataMember(Name = "category")] public string Category;
  [DataMember(Name = "description")] public string Description;
  [DataMember(Name = "location")] public LocationDto Location;
  [DataMember(Name = "anonymous")] public bool Anonymous;
  [DataMember(Name = "visibility")] public string Visibility;
  [DataMember(Name = "status")] public string Status;
  [DataMember(Name = "agency_code")] public string AgencyCode;
  [DataMember(Name = "media")] public string[] Media;
  [DataMember(Name = "created_at")] public string CreatedAt;
  [DataMember(Name = "updated_at")] public string UpdatedAt;
}

static class Bench {
  static double Median(List<double> xs) {
    var s = xs.OrderBy(x => x).ToList();
    return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
  }

  static long RssKb() {
    foreach (var line in File.ReadAllLines("/proc/self/status"))
      if (line.StartsWith("VmHWM:")) return long.Parse(line.Split((char[])null, StringSplitOptions.RemoveEmptyEntries)[1]);
    return 0;
  }

  static int Threads() { return Directory.GetDirectories("/proc/self/task").Length; }

  static int Main(string[] args) {
    int n = args.Length > 0 ? int.Parse(args[0]) : 2000;
    int rounds = args.Length > 1 ? int.Parse(args[1]) : 5;
    using (var sandbox = new Sandbox())
    using (var client = sandbox.CreateClient()) {
      var category = client.Reports.Categories()[0].Code;
      var id = client.Reports.Create(new NewReport(category, "Đèn đường hỏng trước chợ Đông Ba",
                                                   new Location(16.4726, 107.5885, ward: "Đông Ba"))).Id;
      var http = new HttpClient();
      http.DefaultRequestHeaders.Add("X-Api-Key", sandbox.ApiKey);
      var url = sandbox.Url + "/v1/reports/" + id;
      var serializer = new DataContractJsonSerializer(typeof(ReportDto));
      Func<object> sdk = () => client.Reports.Get(id);
      Func<object> peer = () => {
        var bytes = http.GetByteArrayAsync(url).GetAwaiter().GetResult();
        using (var ms = new MemoryStream(bytes)) return serializer.ReadObject(ms);
      };
      for (int i = 0; i < 200; i++) { sdk(); peer(); }  // warm: JIT, connections
      var sdkRps = new List<double>();
      var peerRps = new List<double>();
      for (int r = 0; r < rounds; r++) {
        foreach (var which in r % 2 == 0 ? new[] { 0, 1 } : new[] { 1, 0 }) {
          var f = which == 0 ? sdk : peer;
          var w = Stopwatch.StartNew();
          for (int i = 0; i < n; i++) f();
          (which == 0 ? sdkRps : peerRps).Add(n / w.Elapsed.TotalSeconds);
        }
      }
      double a = Median(sdkRps), b = Median(peerRps);
      Console.WriteLine("typed GET, one thread, keep-alive ({0} rounds of {1}): Hues.Sdk {2:F0}/s, " +
                        "HttpClient + DataContractJsonSerializer {3:F0}/s, ratio {4:F2}x", rounds, n, a, b, a / b);

      int before = Threads();
      long rssBefore = RssKb();
      int peak = before;
      var watch = Stopwatch.StartNew();
      var tasks = new Task<Report>[1000];
      for (int i = 0; i < tasks.Length; i++) tasks[i] = client.Reports.GetAsync(id);
      var sampler = tasks.Where((t, i) => i % 50 == 0).Select(t => t.ContinueWith(_ => Threads())).ToArray();
      Task.WaitAll(tasks);
      double sdkWall = watch.Elapsed.TotalSeconds;
      Task.WaitAll(sampler);
      peak = Math.Max(peak, sampler.Max(t => t.Result));
      Console.WriteLine("1,000 concurrent GetAsync from one thread: {0:F3} s, threads {1} -> peak {2}, peak RSS {3} MiB (was {4} MiB)",
                        sdkWall, before, peak, RssKb() / 1024, rssBefore / 1024);
      watch.Restart();
      var peers = Enumerable.Range(0, 1000).Select(async _ => {
        var bytes = await http.GetByteArrayAsync(url).ConfigureAwait(false);
        using (var ms = new MemoryStream(bytes)) return serializer.ReadObject(ms);
      }).ToArray();
      Task.WaitAll(peers);
      Console.WriteLine("1,000 concurrent HttpClient.GetByteArrayAsync + parse: {0:F3} s, threads now {1}, peak RSS {2} MiB",
                        watch.Elapsed.TotalSeconds, Threads(), RssKb() / 1024);
    }
    return 0;
  }
}
