module flagtwin

go 1.19
