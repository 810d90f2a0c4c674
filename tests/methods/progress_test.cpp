// Progress and its ETA (methods/trainer/progress.h), on a fake clock: the ETA arithmetic against hand
// computations, one log line per `every` items (PRINT_FREQ) whatever the step of advance, nothing drawn
// when the stream is not a terminal, and the in-place redraw when it is. No test here reads a real clock.
#include "methods/trainer/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace clipt::trainer {
namespace {

// Everything written to a FILE* (a temporary file standing in for a terminal).
std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  for (int c; (c = std::fgetc(f)) != EOF;) s.push_back(char(c));
  return s;
}

TEST(Progress, EtaIsTheMeanTimePerItemTimesTheItemsLeft) {
  EXPECT_LT(eta_seconds(5.0, 0, 10), 0);            // nothing done yet: unknown ("?")
  EXPECT_DOUBLE_EQ(eta_seconds(6.0, 3, 10), 14.0);  // 2 s per item, 7 left
  EXPECT_DOUBLE_EQ(eta_seconds(9.0, 10, 10), 0.0);
  EXPECT_DOUBLE_EQ(eta_seconds(9.0, 12, 10), 0.0);  // never negative once something is done
}

TEST(Progress, OneLogLinePerPrintFreqWithEta) {
  double now = 100;
  std::vector<std::string> lines;
  {
    Progress p(
        "evaluating", 7, [&](const std::string& l) { lines.push_back(l); }, 3, nullptr, [&] { return now; });
    for (int i = 0; i < 7; ++i) {
      now += 2;  // 2 s per batch
      p.advance();
    }
    EXPECT_DOUBLE_EQ(p.elapsed(), 14.0);
    EXPECT_DOUBLE_EQ(p.eta(), 0.0);
    p.advance();  // past the end: no second final line
  }
  // Batches 3 and 6 (every 3) and the last one; the ETA is the mean time per batch × batches left.
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "evaluating [3/7] 43% elapsed 0:00:06 eta 0:00:08");
  EXPECT_EQ(lines[1], "evaluating [6/7] 86% elapsed 0:00:12 eta 0:00:02");
  EXPECT_EQ(lines[2], "evaluating [7/7] 100% elapsed 0:00:14 eta 0:00:00");
}

TEST(Progress, AdvancingSeveralItemsAtOnceLogsOncePerMultipleCrossed) {
  // classify advances by a batch of images: 100 images, batches of 32, a line every 40 images.
  double now = 0;
  std::vector<std::string> lines;
  Progress p(
      "classifying", 100, [&](const std::string& l) { lines.push_back(l); }, 40, nullptr, [&] { return now; });
  for (int64_t done = 0; done < 100; done += 32) {
    now += 4;
    p.advance(std::min<int64_t>(32, 100 - done));
  }
  // 32 (no multiple of 40 crossed), 64 (crossed 40), 96 (crossed 80), 100 (the end).
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "classifying [64/100] 64% elapsed 0:00:08 eta 0:00:05");  // 8/64 s × 36 = 4.5 s
  EXPECT_EQ(lines[1], "classifying [96/100] 96% elapsed 0:00:12 eta 0:00:01");  // 0.5 s rounds up to 1 s
  EXPECT_EQ(lines[2], "classifying [100/100] 100% elapsed 0:00:16 eta 0:00:00");
}

TEST(Progress, SweepLogsOneLinePerRun) {
  // b2n / dg / xd sweeps: every = 1, one line per finished run with the overall ETA.
  double now = 0;
  std::vector<std::string> lines;
  Progress p(
      "dg CoOp on pacs", 4, [&](const std::string& l) { lines.push_back(l); }, 1, nullptr, [&] { return now; });
  for (double minutes : {10.0, 20.0, 30.0, 40.0}) {
    now = minutes * 60;
    p.advance();
  }
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "dg CoOp on pacs [1/4] 25% elapsed 0:10:00 eta 0:30:00");
  EXPECT_EQ(lines[3], "dg CoOp on pacs [4/4] 100% elapsed 0:40:00 eta 0:00:00");
}

TEST(Progress, NothingIsDrawnWhenTheOutputIsNotATerminal) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(Progress::terminal(file), nullptr);  // a regular file (as a pipe or CI's log) is not a terminal
  {
    Progress p("evaluating", 3, {}, 1, Progress::terminal(file));
    for (int i = 0; i < 3; ++i) p.advance();
  }
  EXPECT_EQ(contents(file), "");
  std::fclose(file);
}

TEST(Progress, OnATerminalTheLineIsRedrawnInPlaceAndEndedOnce) {
  std::FILE* screen = std::tmpfile();  // stands in for the terminal stream
  ASSERT_NE(screen, nullptr);
  double now = 0;
  std::vector<std::string> lines;
  {
    Progress p(
        "evaluating", 2, [&](const std::string& l) { lines.push_back(l); }, 10, screen, [&] { return now; });
    now = 1;
    p.advance();
    now = 2;
    p.advance();
  }
  EXPECT_EQ(contents(screen),
            "\revaluating [1/2] 50% elapsed 0:00:01 eta 0:00:01\x1b[K"
            "\revaluating [2/2] 100% elapsed 0:00:02 eta 0:00:00\x1b[K\n");
  EXPECT_EQ(lines, std::vector<std::string>{"evaluating [2/2] 100% elapsed 0:00:02 eta 0:00:00"});  // the end only
  std::fclose(screen);
}

TEST(Progress, AnInterruptedRedrawEndsItsLine) {
  std::FILE* screen = std::tmpfile();
  ASSERT_NE(screen, nullptr);
  {
    double now = 0;
    Progress p("evaluating", 5, {}, 1, screen, [&] { return now; });
    p.advance();
  }  // left early (an exception, Ctrl-C): the next output starts on a fresh line
  const std::string s = contents(screen);
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.back(), '\n');
  std::fclose(screen);
}

}  // namespace
}  // namespace clipt::trainer
