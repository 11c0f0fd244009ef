# The chart of `make bench`: the ratio C/Go per workload, against Go with
# GOMAXPROCS = the cores and with GOMAXPROCS=1, the ratio C/crossbeam, and the
# target of each (a target bounds C/Go). Lower is better; 1 means as fast as
# the other side. A ratio that was not measured (NaN) draws no bar. Called by
# run.py as
#   gnuplot -e "datafile='build/bench/ratios.dat'; outfile='build/bench/ratios.svg'; cores=2" ratios.gp
# Columns of datafile: workload, C/Go, C/Go(1), target, C/crossbeam.
set terminal svg size 1080,560 dynamic noenhanced font "sans,12" background "white"
set output outfile
set title "common/ against Go's channels and crossbeam-channel: time per operation, C / other (lower is better)"
set ylabel "C / other (log scale)"
set logscale y 2
set yrange [0.03125:*]
set grid ytics
set key outside top center horizontal width 3
set bmargin 9
set xtics rotate by -35 left nomirror
set style fill solid 0.85 border -1
set boxwidth 0.26
set datafile missing "NaN"
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 linecolor "black"
plot datafile using ($0 - 0.27):2:xtic(1) with boxes linecolor "#3a6ea5" \
         title sprintf("vs Go, GOMAXPROCS=%d", cores), \
     "" using ($0):3 with boxes linecolor "#9fc5e8" title "vs Go, GOMAXPROCS=1", \
     "" using ($0 + 0.27):5 with boxes linecolor "#e69138" title "vs crossbeam", \
     "" using ($0 - 0.135):4:(0.28) with xerrorbars pointtype 0 linewidth 3 linecolor "#c0392b" \
         title "target (C/Go)"
