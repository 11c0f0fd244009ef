module gopatterns

go 1.19
